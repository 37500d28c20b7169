using Candor.Collector;

return await CollectorApp.RunAsync(args);
