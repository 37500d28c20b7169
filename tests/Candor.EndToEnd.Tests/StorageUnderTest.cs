using System.Globalization;
using System.Text;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// One of the collector's two stores for an abuse test: DuckDB in the collector's data directory, or a
/// database on a throwaway PostgreSQL server. Reads back every stored event id of acme, with how many
/// times each is stored, so "stored exactly once" can be checked over any number of events (the admin
/// API returns at most 10,000).
/// </summary>
internal sealed class StorageUnderTest : IAsyncDisposable
{
    private readonly PostgresServer? _postgres;
    private readonly string? _connectionString;

    private StorageUnderTest(string storage, PostgresServer? postgres, string? connectionString)
    {
        Storage = storage;
        _postgres = postgres;
        _connectionString = connectionString;
    }

    public string Storage { get; }

    public bool IsPostgres => _postgres is not null;

    public static async Task<StorageUnderTest> StartAsync(string storage)
    {
        if (storage == "duckdb")
        {
            return new StorageUnderTest(storage, null, null);
        }

        var postgres = await PostgresServer.StartAsync();
        try
        {
            return new StorageUnderTest(storage, postgres, await postgres.CreateDatabaseAsync());
        }
        catch
        {
            await postgres.DisposeAsync();
            throw;
        }
    }

    /// <summary>The collector's environment for this store.</summary>
    public Dictionary<string, string?> Environment(Dictionary<string, string?>? extra = null)
    {
        var environment = new Dictionary<string, string?>(extra ?? []);
        if (_connectionString is not null)
        {
            environment["Candor__Storage"] = "postgres";
            environment["Candor__ConnectionString"] = _connectionString;
        }

        return environment;
    }

    /// <summary>
    /// Every stored acme event id with its count. For DuckDB the collector must be stopped (the file is
    /// read by <c>candor export</c>, which also applies an ingest journal a killed collector left).
    /// </summary>
    public async Task<Dictionary<Guid, int>> ReadStoredEventIdsAsync(string dataDirectory)
    {
        IEnumerable<string> ids;
        if (_postgres is not null)
        {
            var text = await _postgres.QueryAsync(PostgresServer.DatabaseOf(_connectionString!), "SELECT event_id FROM events WHERE product = 'acme'");
            ids = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        else
        {
            var file = Path.Combine(dataDirectory, "stored-events.csv");
            var result = await ProgramProcess.RunAsync(
                RepositoryPaths.ProgramAssembly("Candor.Collector", "Candor.Collector.dll"),
                ["export", "--database", Path.Combine(dataDirectory, "candor.duckdb"), "--format", "csv", "--output", file, "--product", "acme"],
                dataDirectory, timeout: TimeSpan.FromMinutes(5));
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"candor export failed ({result.ExitCode}): {result.StandardError}{result.StandardOutput}");
            }

            ids = CsvColumn(File.ReadAllText(file, Encoding.UTF8), "event_id");
        }

        var counts = new Dictionary<Guid, int>();
        foreach (var id in ids)
        {
            var guid = Guid.Parse(id, CultureInfo.InvariantCulture);
            counts[guid] = counts.GetValueOrDefault(guid) + 1;
        }

        return counts;
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    /// <summary>One column of an RFC 4180 CSV text (quoted fields may hold commas, quotes and line breaks,
    /// which stored fuzz strings can).</summary>
    internal static List<string> CsvColumn(string csv, string column)
    {
        var values = new List<string>();
        var field = new StringBuilder();
        var fieldIndex = 0;
        var columnIndex = -1;
        var header = new List<string>();
        var inQuotes = false;
        var atHeader = true;
        for (var i = 0; i <= csv.Length; i++)
        {
            var c = i < csv.Length ? csv[i] : '\n';
            if (inQuotes)
            {
                if (c == '"' && i + 1 < csv.Length && csv[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    inQuotes = false;
                }
                else
                {
                    field.Append(c);
                }

                continue;
            }

            if (c == '"')
            {
                inQuotes = true;
            }
            else if (c is ',' or '\n')
            {
                var value = field.ToString().TrimEnd('\r');
                field.Clear();
                if (atHeader)
                {
                    header.Add(value);
                }
                else if (fieldIndex == columnIndex)
                {
                    values.Add(value);
                }

                fieldIndex++;
                if (c == '\n')
                {
                    if (atHeader)
                    {
                        columnIndex = header.IndexOf(column);
                        if (columnIndex < 0)
                        {
                            throw new InvalidOperationException($"No column '{column}' in the CSV header: {string.Join(',', header)}");
                        }

                        atHeader = false;
                    }

                    fieldIndex = 0;
                }
            }
            else
            {
                field.Append(c);
            }
        }

        // The appended final '\n' ends the last row; a file ending in a line break yields one empty row.
        if (values.Count > 0 && values[^1].Length == 0)
        {
            values.RemoveAt(values.Count - 1);
        }

        return values;
    }
}
