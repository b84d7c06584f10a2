using MockServe.LoadTests.Cli;

return LoadCli.Run(args, Console.Out, Console.Error);
