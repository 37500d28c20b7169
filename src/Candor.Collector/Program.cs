using Candor.Collector.Cli;

return await CandorCommandLine.Build().Parse(args).InvokeAsync();
