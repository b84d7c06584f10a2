using MockServe.Server.Cli;

return CliApp.Run(args, Console.Out, Console.Error);
