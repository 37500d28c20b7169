using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Candor.Collector.Analytics;
using Candor.Collector.Storage.DuckDb;
using DuckDB.NET.Data;

namespace Candor.Benchmarks;

/// <summary>
/// Every dashboard query over a store of generated events (10 million by default; set
/// CANDOR_BENCH_EVENTS to change), in the last 30 days of a 90-day history. "Dashboard" runs every
/// query the dashboard page makes, concurrently, as the browser does. The stores are derived below.
/// </summary>
[Config(typeof(OneQueryPerIteration))]
public abstract class AnalyticsBenchmarksBase
{
    /// <summary>In process (the generated store is shared), one query per iteration, 11 iterations:
    /// a dashboard query is long enough that BenchmarkDotNet's batching adds nothing.</summary>
    private sealed class OneQueryPerIteration : ManualConfig
    {
        public OneQueryPerIteration()
        {
            AddJob(Job.Default
                // A PostgreSQL dashboard load takes over half a minute at 10M events: more than the
                // in-process toolchain's default time limit for a benchmark's iterations.
                .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromMinutes(30), logOutput: true))
                .WithStrategy(RunStrategy.Monitoring)
                .WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(11).WithInvocationCount(1).WithUnrollFactor(1));
            AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max);
        }
    }

    private const int K = 5;
    private IAnalyticsStore _store = null!;
    private AnalyticsQuery _query = null!;

    public static long EventCount => long.TryParse(Environment.GetEnvironmentVariable("CANDOR_BENCH_EVENTS"), out var n) ? n : 10_000_000;

    /// <summary>The generated events end here; queries cover the 30 days before.</summary>
    public static readonly DateTimeOffset End = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private protected abstract IAnalyticsStore OpenStore();

    [GlobalSetup]
    public void Setup()
    {
        _store = OpenStore();
        _query = new AnalyticsQuery("acme", End.AddDays(-30), End);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        (_store as IDisposable)?.Dispose();
        CloseStore();
    }

    /// <summary>Releases what <see cref="OpenStore"/> opened besides the analytics store.</summary>
    private protected virtual void CloseStore()
    {
    }

    [Benchmark] public Task Summary() => _store.SummaryAsync(_query, default);
    [Benchmark] public Task ActiveDaily() => _store.ActiveInstallsAsync(_query, Interval.Day, default);
    [Benchmark] public Task ActiveMonthly() => _store.ActiveInstallsAsync(_query, Interval.Month, default);
    [Benchmark] public Task NewInstalls() => _store.NewInstallsAsync(_query, Interval.Day, default);
    [Benchmark] public Task Retention() => _store.RetentionAsync(_query, _query.To, default);
    [Benchmark] public Task Installs() => _store.InstallsAsync(_query, 100, default);
    [Benchmark] public Task Versions() => _store.VersionAdoptionAsync(_query, Interval.Week, K, default);
    [Benchmark] public Task OsBreakdown() => _store.BreakdownAsync(_query, Dimension.OsFamily, K, default);
    [Benchmark] public Task CountryBreakdown() => _store.BreakdownAsync(_query, Dimension.Country, K, default);
    [Benchmark] public Task ErrorCodes() => _store.BreakdownAsync(_query, Dimension.ErrorCode, K, default);
    [Benchmark] public Task Commands() => _store.CommandsAsync(_query, K, default);
    [Benchmark] public Task Operations() => _store.OperationsAsync(_query, K, default);
    [Benchmark] public Task Numeric() => _store.NumericAsync(_query, "command", "duration_ms", default);
    [Benchmark] public Task Live() => _store.LiveAsync("acme", End.AddMinutes(-15), K, default);
    [Benchmark] public Task FilteredSummary() => _store.SummaryAsync(_query with { Os = "windows", Ci = false }, default);

    /// <summary>What the dashboard page asks for on one load, concurrently.</summary>
    [Benchmark]
    public Task Dashboard() => Task.WhenAll(
        _store.SummaryAsync(_query, default),
        _store.ActiveInstallsAsync(_query, Interval.Day, default),
        _store.NewInstallsAsync(_query, Interval.Day, default),
        _store.RetentionAsync(_query, _query.To, default),
        _store.VersionAdoptionAsync(_query, Interval.Week, K, default),
        _store.BreakdownAsync(_query, Dimension.InitialVersion, K, default),
        _store.BreakdownAsync(_query, Dimension.OsFamily, K, default),
        _store.BreakdownAsync(_query, Dimension.Runtime, K, default),
        _store.BreakdownAsync(_query, Dimension.Architecture, K, default),
        _store.BreakdownAsync(_query, Dimension.CiName, K, default),
        _store.BreakdownAsync(_query, Dimension.Country, K, default),
        _store.BreakdownAsync(_query, Dimension.ErrorCode, K, default),
        _store.CommandsAsync(_query, K, default),
        _store.OperationsAsync(_query, K, default),
        _store.BreakdownAsync(_query, Dimension.EventName, K, default),
        _store.LiveAsync("acme", End.AddMinutes(-15), K, default));
}

/// <summary>
/// The dashboard queries on DuckDB. The store is generated once into the temp folder and reused.
/// Run: dotnet run -c Release --project bench/Candor.Benchmarks -- --filter '*AnalyticsQueryBenchmarks*'
/// </summary>
public class AnalyticsQueryBenchmarks : AnalyticsBenchmarksBase
{
    private DuckDbEventStore? _events;

    private protected override IAnalyticsStore OpenStore()
    {
        var path = GeneratedStore.EnsureAsync(EventCount).GetAwaiter().GetResult();
        var bytes = new FileInfo(path).Length;
        Console.WriteLine($"// Storage: {bytes:N0} bytes for {EventCount:N0} events = {(double)bytes / EventCount:F1} bytes per event ({path})");
        // As the collector opens it: the event store first, which sets DuckDB's memory limit for the
        // whole database (the collector's default unless CANDOR_BENCH_DUCKDB_MEMORY says otherwise;
        // analytics queries share it), then the analytics store with its default connection pool.
        var memoryLimit = Environment.GetEnvironmentVariable("CANDOR_BENCH_DUCKDB_MEMORY") is { Length: > 0 } limit
            ? limit
            : new Candor.Collector.CollectorOptions().DuckDbMemoryLimit;
        Console.WriteLine($"// DuckDB memory_limit: {memoryLimit}");
        _events = new DuckDbEventStore(path, memoryLimit);
        // The first open of a generated (or older) file numbers its installs (DuckDbMigrations.NumberInstallsAsync).
        var opening = System.Diagnostics.Stopwatch.StartNew();
        _events.InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
        Console.WriteLine($"// Event store opened in {opening.Elapsed.TotalSeconds:F1} s");
        // Install counts read install_seq: a file whose events lack it would count no installs and
        // time queries that do no work (the v3 generated file did, unnoticed).
        using (var check = new DuckDBConnection($"Data Source={path}"))
        {
            check.Open();
            using var command = check.CreateCommand();
            command.CommandText = "SELECT count(*) FROM events WHERE install_id IS NOT NULL AND install_seq IS NULL";
            if (Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) != 0)
            {
                throw new InvalidOperationException($"{path} has events without install numbers; delete it to generate it again.");
            }
        }

        return new DuckDbAnalyticsStore(path);
    }

    private protected override void CloseStore() => _events?.DisposeAsync().AsTask().GetAwaiter().GetResult();
}

/// <summary>Generates a realistic store with DuckDB itself (fast, reproducible: fixed seed).</summary>
internal static class GeneratedStore
{
    public static async Task<string> EnsureAsync(long events)
    {
        var path = Path.Combine(Path.GetTempPath(), $"candor-bench-v4-{events}.duckdb");
        if (File.Exists(path))
        {
            return path;
        }

        var temporary = path + ".partial";
        File.Delete(temporary);
        await using (var store = new DuckDbEventStore(temporary))
        {
            await store.InitializeAsync(CancellationToken.None);
        }

        using var connection = new DuckDBConnection($"Data Source={temporary}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandTimeout = 0;
        // 50k installs over 90 days; each event picks an install, and the install fixes its platform.
        command.CommandText = """
            SELECT setseed(0.42);
            CREATE TEMP TABLE installs AS
            SELECT i AS n, uuid() AS install_id,
                   ['1.0.0','1.1.0','1.2.0','1.3.0','2.0.0','2.1.0','2.2.0','3.0.0-beta'][1 + (i % 8)] AS version,
                   ['linux','linux','windows','windows','macos'][1 + (i % 5)] AS os,
                   ['8.0.11','9.0.5','10.0.0'][1 + (i % 3)] AS runtime,
                   ['x64','x64','x64','arm64'][1 + (i % 4)] AS arch,
                   (i % 5 = 0) AS ci,
                   CASE WHEN i % 5 = 0 THEN ['github-actions','gitlab','azure-pipelines','jenkins'][1 + (i % 4)] END AS ci_name,
                   ['US','DE','FR','GB','IN','BR','JP','CN','CA','NL','PL','SE','ES','IT','AU','KR','CH','AT','BE','DK','FI','NO','IE','PT','CZ','RO','UA','MX','AR','ZA'][1 + (i % 30)] AS country
            FROM range(50000) t(i);
            INSERT INTO events
            SELECT 'acme', uuid(), name, '1-0-0', ts, ts + INTERVAL 1 SECOND, i.install_id, uuid(), NULL, NULL,
                   i.version, '1.0.0', '0.1.0', i.runtime, i.os, i.os || ' 1', NULL, i.arch, i.ci, i.ci_name,
                   CASE name
                       WHEN 'command' THEN '{"command":"' || subject || '","exit_code":' || CASE WHEN failed THEN 1 ELSE 0 END || ',"duration_ms":' || duration || '}'
                       WHEN 'operation' THEN '{"operation":"' || subject || '","outcome":"' || CASE WHEN failed THEN 'failure' ELSE 'success' END || '","duration_ms":' || duration
                           || CASE WHEN error_code IS NULL THEN '' ELSE ',"error_code":"' || error_code || '"' END || '}'
                       WHEN 'error' THEN '{"error_type":"IOException","error_code":"' || error_code || '"}'
                       ELSE '{}'
                   END,
                   i.country, NULL, NULL,
                   subject, duration, failed, error_code, i.n + 1
            FROM (
                SELECT *,
                       CASE name WHEN 'command' THEN ['run','new','build','test','deploy','lint','info','telemetry status'][1 + (e % 8)]
                                 WHEN 'operation' THEN ['load','save','sync'][1 + (e % 3)]
                                 WHEN 'error' THEN 'IOException' END AS subject,
                       CASE name WHEN 'command' THEN 10 + (e % 997) WHEN 'operation' THEN 5 + (e % 500) END::DOUBLE AS duration,
                       CASE name WHEN 'command' THEN e % 20 = 0 WHEN 'operation' THEN e % 25 = 0 WHEN 'error' THEN TRUE END AS failed,
                       CASE WHEN name = 'operation' AND e % 25 = 0 THEN 'E' || (e % 7) WHEN name = 'error' THEN 'E' || (e % 11) END AS error_code
                FROM (
                    SELECT e, CASE WHEN r < 0.70 THEN 'command' WHEN r < 0.85 THEN 'operation' WHEN r < 0.97 THEN 'heartbeat' ELSE 'error' END AS name, ts, n
                    FROM (
                        SELECT e, random() AS r,
                               TIMESTAMP '2026-11-01' - INTERVAL (CAST(floor(random() * 90 * 86400) AS BIGINT)) SECOND AS ts,
                               CAST(floor(random() * 50000) AS BIGINT) AS n
                        FROM range($events) t(e)))
            ) g JOIN installs i ON i.n = g.n
            ORDER BY ts;
            -- The install numbers the writer would have given (install_seq above is n + 1). The v3 generator
            -- left install_seq NULL, and every install count was 0.
            INSERT INTO install_numbers
            SELECT 'acme', i.install_id, i.n + 1, min(e.event_time)
            FROM installs i JOIN events e ON e.install_id = i.install_id GROUP BY i.install_id, i.n;
            CHECKPOINT;
            """;
        command.Parameters.Add(new DuckDBParameter("events", events));
        command.ExecuteNonQuery();
        connection.Close();
        File.Move(temporary, path);
        return path;
    }
}
