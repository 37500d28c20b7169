using System.Text.Json;
using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using Candor.Collector.Tests.Analytics;
using Candor.Protocol;
using DuckDB.NET.Data;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>Writes seed events straight into a DuckDB file created by the real store.</summary>
internal static class DuckDbAnalyticsSeeder
{
    /// <summary>Writes rejected events through the real store's write path.</summary>
    public static async Task SeedQuarantineAsync(string databasePath, IReadOnlyList<Candor.Collector.Storage.QuarantineRecord> rejected)
    {
        await using var store = new DuckDbEventStore(databasePath);
        await store.InitializeAsync(CancellationToken.None);
        await store.WriteAsync([], rejected, CancellationToken.None);
    }

    /// <summary>
    /// Appends the seed rows to a file made as before install numbers existed (no install_seq
    /// column, nor the cloud and container columns added after it), then opens the real store again, which adds the column and numbers the installs:
    /// the upgrade path every older file takes.
    /// </summary>
    /// <param name="databasePath">The file.</param>
    /// <param name="events">The seed.</param>
    /// <param name="upgrade">False leaves the file as an older collector wrote it.</param>
    public static async Task SeedAsync(string databasePath, IEnumerable<SeedEvent> events, bool upgrade = true)
    {
        await using (var store = new DuckDbEventStore(databasePath))
        {
            await store.InitializeAsync(CancellationToken.None);
        }

        Append(databasePath, events);
        if (upgrade)
        {
            await using var store = new DuckDbEventStore(databasePath);
            await store.InitializeAsync(CancellationToken.None);
        }
    }

    private static void Append(string databasePath, IEnumerable<SeedEvent> events)
    {
        using var connection = new DuckDBConnection($"Data Source={databasePath}");
        connection.Open();
        using (var drop = connection.CreateCommand())
        {
            // The columns added since install numbers go too: an older file has none of them.
            drop.CommandText = """
                ALTER TABLE events DROP COLUMN install_seq;
                ALTER TABLE events DROP COLUMN install_id_per_process;
                ALTER TABLE events DROP COLUMN cloud;
                ALTER TABLE events DROP COLUMN cloud_platform;
                ALTER TABLE events DROP COLUMN cloud_region;
                ALTER TABLE events DROP COLUMN container;
                """;
            drop.ExecuteNonQuery();
        }

        using var appender = connection.CreateAppender("events");
        foreach (var e in events)
        {
            var received = e.ReceivedAt ?? e.Time.AddSeconds(1);
            var fields = AnalyticsFields.Derive(new TelemetryEvent
            {
                Name = e.Name,
                Properties = JsonSerializer.Deserialize(e.PropertiesJson, CollectorJsonContext.Default.IDictionaryStringPropertyValue),
            });
            appender.CreateRow()
                .AppendValue(e.Product)
                .AppendValue(Guid.CreateVersion7())
                .AppendValue(e.Name)
                .AppendValue("1-0-0")
                .AppendValue(e.Time)
                .AppendValue(received)
                .AppendValue((Guid?)e.InstallId)
                .AppendValue((Guid?)Guid.CreateVersion7())
                .AppendNullValue()
                .AppendNullValue()
                .AppendValue(e.Version)
                .AppendValue(e.InitialVersion)
                .AppendValue("0.1.0")
                .AppendValue("10.0.0")
                .AppendValue(e.Os)
                .AppendValue(e.Os + " 1")
                .AppendNullValue()
                .AppendValue("x64")
                .AppendValue(e.Ci)
                .AppendValue(e.CiName)
                .AppendValue(e.PropertiesJson)
                .AppendValue(e.Country)
                .AppendValue(e.Region)
                .AppendNullValue()
                .AppendValue(fields.Subject)
                .AppendValue(fields.DurationMs)
                .AppendValue(fields.Failed)
                .AppendValue(fields.ErrorCode)
                .EndRow();
        }
    }
}
