using BenchmarkDotNet.Attributes;
using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using Candor.Protocol;

namespace Candor.Benchmarks;

/// <summary>
/// What a DuckDB group costs, for groups of 100 and 1,000 fresh events (batches of 100, each with its
/// own context, as the load generator sends them) into a file on disk. <see cref="WriteGroup"/>: what
/// a request waits for — dedup and the ingest journal's append with its fsync. <see cref="WriteGroupAndStore"/>:
/// that and the applier's commit behind it (appender, install numbers, commit with its fsync) — the
/// applier is what limits full-load DuckDB ingest (docs/operator-guide.md § Load testing).
/// Run: dotnet run -c Release --project bench/Candor.Benchmarks -- --filter '*DuckDbWrite*'
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
public class DuckDbWriteBenchmarks
{
    private static readonly string[] Commands = ["run", "new", "pipeline list", "pipeline show", "run --watch", "telemetry status", "login", "deploy"];
    private static readonly string[] Versions = ["1.4.0", "1.4.1", "1.3.2", "2.0.0-preview.3"];
    private static readonly string[] Os = ["linux", "windows", "macos"];

    private string _directory = null!;
    private DuckDbEventStore _store = null!;
    private List<EventRecord> _events = null!;
    private readonly Random _random = new(42);

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("candor-write-bench-").FullName;
        _store = new DuckDbEventStore(Path.Combine(_directory, "events.duckdb"));
        _store.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>Batches of 100 per group: 1 and 10 give the writer's cost per commit and per event.</summary>
    [Params(1, 10)]
    public int Batches { get; set; }

    [IterationSetup]
    public void NewEvents() => _events = Group(Batches, batchSize: 100);

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public Task<bool[]> WriteGroup() => _store.WriteAsync(_events, [], CancellationToken.None);

    [Benchmark]
    public async Task WriteGroupAndStore()
    {
        await _store.WriteAsync(_events, [], CancellationToken.None);
        await _store.WaitForStoredAsync(CancellationToken.None);
    }

    private List<EventRecord> Group(int batches, int batchSize)
    {
        var events = new List<EventRecord>(batches * batchSize);
        var now = DateTimeOffset.UtcNow;
        for (var b = 0; b < batches; b++)
        {
            var context = new EventContext
            {
                Product = "acme", ProductVersion = Versions[_random.Next(Versions.Length)], InitialVersion = "1.2.0", SdkVersion = "0.1.0",
                RuntimeVersion = "10.0.0", OsFamily = Os[_random.Next(Os.Length)], OsVersion = "Debian GNU/Linux 12 (bookworm)",
                Architecture = "x64", Ci = _random.Next(4) == 0, SessionId = Guid.CreateVersion7(), InstallId = Guid.CreateVersion7(),
            };
            for (var i = 0; i < batchSize; i++)
            {
                var command = Commands[_random.Next(Commands.Length)];
                var exitCode = _random.Next(10) == 0 ? 1 : 0;
                var duration = _random.Next(5, 30_000);
                events.Add(new EventRecord
                {
                    Product = "acme",
                    Id = Guid.CreateVersion7(),
                    Name = "command",
                    SchemaVersion = "1-0-0",
                    Time = now.AddMilliseconds(-_random.Next(60_000)),
                    ReceivedAt = now,
                    Context = context,
                    PropertiesJson = $$"""{"command":"{{command}}","exit_code":{{exitCode}},"duration_ms":{{duration}}}""",
                    Country = "DE",
                    Region = "BE",
                    IpPseudonym = "ip_0123456789abcdef",
                    Analytics = new AnalyticsFields(command, duration, exitCode != 0, null),
                });
            }
        }

        return events;
    }
}
