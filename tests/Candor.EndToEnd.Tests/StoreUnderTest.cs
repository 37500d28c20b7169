using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// A storage engine for collector processes: <c>duckdb</c> (a data folder of its own) or
/// <c>postgres</c> (a throwaway server and database). Collectors started from one instance share
/// its store, so a restart finds what the previous process stored.
/// </summary>
internal sealed class StoreUnderTest : IAsyncDisposable
{
    private readonly TemporaryDirectory _data = new();
    private readonly PostgresServer? _postgres;

    private StoreUnderTest(PostgresServer? postgres, string? connectionString)
    {
        _postgres = postgres;
        ConnectionString = connectionString;
    }

    /// <summary>The PostgreSQL database's connection string, or <see langword="null"/> for DuckDB.</summary>
    public string? ConnectionString { get; }

    public PostgresServer? Postgres => _postgres;

    public string DataDirectory => _data.Path;

    public static async Task<StoreUnderTest> StartAsync(string engine)
    {
        if (engine == "duckdb")
        {
            return new StoreUnderTest(null, null);
        }

        var postgres = await PostgresServer.StartAsync();
        return new StoreUnderTest(postgres, await postgres.CreateDatabaseAsync());
    }

    public Task<CollectorProcess> StartCollectorAsync(IReadOnlyDictionary<string, string?>? settings = null, IReadOnlyList<string>? arguments = null)
    {
        var environment = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>());
        if (ConnectionString is not null)
        {
            environment["Candor__Storage"] = "postgres";
            environment["Candor__ConnectionString"] = ConnectionString;
        }

        return CollectorProcess.StartAsync(_data.Path, environment, arguments);
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        _data.Dispose();
    }
}
