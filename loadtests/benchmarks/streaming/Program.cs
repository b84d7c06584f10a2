using MockServe.Benchmarks.Streaming;

return BenchCli.Run(args);
