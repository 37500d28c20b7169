using Candor.Collector.Storage.DuckDb;
using Candor.Collector.Tests.Analytics;
using Candor.Collector.Tests.Storage;
using Candor.Collector.Tests.Storage.DuckDb;
using Candor.TestSupport;
using DuckDB.NET.Data;

namespace Candor.Collector.Tests.Cli;

/// <summary><c>candor report</c> and <c>candor export</c> run as real processes over a seeded store.</summary>
public sealed class CandorCommandLineTests : IClassFixture<CandorCommandLineTests.SeededStore>
{
    private static readonly string Candor = RepositoryPaths.ProgramAssembly("Candor.Collector", "Candor.Collector.dll");
    private readonly SeededStore _store;

    public CandorCommandLineTests(SeededStore store) => _store = store;

    [Fact]
    public async Task ReportPrintsTheKeyFiguresAsTables()
    {
        var result = await RunAsync("report", "--database", _store.Path, "--product", "acme", "--from", "2026-10-01", "--to", "2026-11-20");

        Assert.Equal(0, result.ExitCode);
        var lines = result.StandardOutput.Split('\n').Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToList();
        Assert.Contains("Active installs 12", lines);
        Assert.Contains("Command runs 26", lines);
        Assert.Contains("Still active after 7 days 58.3%", lines);
        Assert.Contains("run 19 12 0.0% 100 100", lines);
        Assert.Contains("new 6 6 33.3% 300 300", lines);
        Assert.Contains("linux 6 24", lines);
        Assert.DoesNotContain("macos", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-cmd", result.StandardOutput, StringComparison.Ordinal);
        // A tool's heartbeats alone do not make it a service.
        Assert.DoesNotContain("Routes", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReportUpgradesAFileWrittenByAnOlderCollectorAsTheCollectorWould()
    {
        using var directory = new TemporaryDirectory("candor-cli-old");
        var path = directory.Combine("candor.duckdb");
        await DuckDbAnalyticsSeeder.SeedAsync(path, AnalyticsSeed.Events(DateTime.UtcNow), upgrade: false);

        var result = await RunAsync("report", "--database", path, "--product", "acme", "--from", "2026-10-01", "--to", "2026-11-20");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Active installs 12", result.StandardOutput.Split('\n').Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))));
    }

    [Theory]
    [InlineData("parquet")]
    [InlineData("csv")]
    public async Task ExportWritesAFileWithEveryEventOfTheRange(string format)
    {
        using var output = new TemporaryDirectory("candor-export");
        var file = output.Combine("events." + format);

        var result = await RunAsync("export", "--database", _store.Path, "--format", format, "--output", file, "--product", "acme", "--from", "2026-10-01", "--to", "2026-10-31");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Exported 24 events", result.StandardError, StringComparison.Ordinal);
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = format == "parquet"
            ? "SELECT count(*), count(DISTINCT install_id), min(event_time) FROM read_parquet($path)"
            : "SELECT count(*), count(DISTINCT install_id), min(event_time) FROM read_csv($path, header = true)";
        command.Parameters.Add(new DuckDBParameter("path", file));
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(24, reader.GetInt64(0));
        Assert.Equal(6, reader.GetInt64(1));
        Assert.Equal(new DateTime(2026, 10, 1, 9, 0, 0), reader.GetDateTime(2));
        reader.Close();
        // The events' columns, without the collector's internal install number.
        command.CommandText = format == "parquet"
            ? "SELECT list(column_name) FROM (DESCRIBE SELECT * FROM read_parquet($path))"
            : "SELECT list(column_name) FROM (DESCRIBE SELECT * FROM read_csv($path, header = true))";
        var columns = ((System.Collections.IEnumerable)command.ExecuteScalar()!).Cast<string>().ToList();
        Assert.Contains("install_id", columns);
        Assert.Contains("event_time", columns);
        Assert.DoesNotContain("install_seq", columns);
    }

    [Fact]
    public async Task AnExportTheEngineCannotWriteFailsWithOneLineAndExitCodeOne()
    {
        using var output = new TemporaryDirectory("candor-export-fail");

        // The target is an existing directory: DuckDB cannot write a file there.
        var result = await RunAsync("export", "--database", _store.Path, "--format", "csv", "--output", output.Path);

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("Export failed: ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportIncludesEventsACrashedCollectorLeftInItsIngestJournal()
    {
        using var directory = new TemporaryDirectory("candor-export-journal");
        var path = directory.Combine("candor.duckdb");
        await using (var store = new DuckDbEventStore(path))
        {
            await store.InitializeAsync(CancellationToken.None);
            await store.WriteAsync([EventStoreContract.Record("acme")], [], CancellationToken.None);
        }

        // A later file of the journal (the first was applied and deleted before the crash).
        using (var journal = IngestJournal.Create(path + ".journal.3"))
        {
            journal.Append([EventStoreContract.Record("acme"), EventStoreContract.Record("acme")], []);
        }

        var file = directory.Combine("events.csv");
        var result = await RunAsync("export", "--database", path, "--format", "csv", "--output", file);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Exported 3 events", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(directory.Path, "candor.duckdb.journal*"));
    }

    [Fact]
    public async Task AnUnknownCommandOrMissingDatabaseIsAClearError()
    {
        var typo = await RunAsync("reprot");
        var missing = await RunAsync("report", "--database", Path.Combine(Path.GetTempPath(), "no-such-candor.duckdb"));

        Assert.Equal(2, typo.ExitCode);
        Assert.Contains("Unknown command 'reprot'", typo.StandardError, StringComparison.Ordinal);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("No Candor database", missing.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAddressInUseIsOneLineSayingHowToChooseAnotherNotAStackTrace()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        var port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        using var data = new TemporaryDirectory("candor-port");

        var result = await RunAsync("--urls", $"http://127.0.0.1:{port}", $"--Candor:DataDirectory={data.Path}");

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.Contains("address already in use", line, StringComparison.Ordinal);
        Assert.Contains("--urls", line, StringComparison.Ordinal);
    }

    private static Task<ProgramResult> RunAsync(params string[] arguments) =>
        ProgramProcess.RunAsync(Candor, arguments, Path.GetTempPath(), timeout: TimeSpan.FromSeconds(60));

    public sealed class SeededStore : IAsyncLifetime, IDisposable
    {
        private readonly TemporaryDirectory _directory = new("candor-cli");

        public string Path => _directory.Combine("candor.duckdb");

        public Task InitializeAsync() => DuckDbAnalyticsSeeder.SeedAsync(Path, AnalyticsSeed.Events(DateTime.UtcNow));

        public Task DisposeAsync() => Task.CompletedTask;

        public void Dispose() => _directory.Dispose();
    }
}
