using MockServe.Reliability;

return ReliabilityCli.Run(args);
