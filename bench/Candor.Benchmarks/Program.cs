using BenchmarkDotNet.Running;

// Run all:   dotnet run -c Release --project bench/Candor.Benchmarks -- --filter '*'
// Run one:   dotnet run -c Release --project bench/Candor.Benchmarks -- --filter '*Batch*'

// Generating the PostgreSQL store takes longer than BenchmarkDotNet allows an in-process setup
// (5 minutes), so it is generated (once) before the benchmarks start.
if (Environment.GetEnvironmentVariable("CANDOR_BENCH_PG") is { Length: > 0 } server
    && args.Any(a => a.Contains("Postgres", StringComparison.OrdinalIgnoreCase) || a == "*"))
{
    await Candor.Benchmarks.GeneratedPostgresStore.EnsureAsync(server, Candor.Benchmarks.AnalyticsBenchmarksBase.EventCount);
}

BenchmarkSwitcher.FromAssembly(typeof(Candor.Benchmarks.BatchEncodingBenchmarks).Assembly).Run(args);
