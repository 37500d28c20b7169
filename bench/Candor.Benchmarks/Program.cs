using BenchmarkDotNet.Running;

// Run all:   dotnet run -c Release --project bench/Candor.Benchmarks -- --filter '*'
// Run one:   dotnet run -c Release --project bench/Candor.Benchmarks -- --filter '*Batch*'
BenchmarkSwitcher.FromAssembly(typeof(Candor.Benchmarks.BatchEncodingBenchmarks).Assembly).Run(args);
