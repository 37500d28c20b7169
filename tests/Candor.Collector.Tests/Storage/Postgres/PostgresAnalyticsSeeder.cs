using System.Text.Json;
using Candor.Collector.Storage;
using Candor.Collector.Storage.Postgres;
using Candor.Collector.Tests.Analytics;
using Candor.Protocol;

namespace Candor.Collector.Tests.Storage.Postgres;

/// <summary>Writes seed events through the real PostgreSQL store (binary COPY, monthly partitions,
/// typed analytics columns), as the collector would have stored them.</summary>
internal static class PostgresAnalyticsSeeder
{
    public static async Task SeedAsync(string connectionString, IEnumerable<SeedEvent> events)
    {
        await using var store = new PostgresEventStore(connectionString);
        await store.InitializeAsync(CancellationToken.None);
        var records = events.Select(e =>
        {
            var properties = JsonSerializer.Deserialize(e.PropertiesJson, CollectorJsonContext.Default.IDictionaryStringPropertyValue);
            return new EventRecord
            {
                Product = e.Product,
                Id = Guid.CreateVersion7(),
                Name = e.Name,
                SchemaVersion = "1-0-0",
                Time = new DateTimeOffset(e.Time),
                ReceivedAt = new DateTimeOffset(e.ReceivedAt ?? e.Time.AddSeconds(1)),
                Context = new EventContext
                {
                    Product = e.Product,
                    InstallId = e.InstallId,
                    SessionId = Guid.CreateVersion7(),
                    ProductVersion = e.Version,
                    InitialVersion = e.InitialVersion,
                    SdkVersion = "0.1.0",
                    RuntimeVersion = "10.0.0",
                    OsFamily = e.Os,
                    OsVersion = e.Os + " 1",
                    Architecture = "x64",
                    Ci = e.Ci,
                    CiName = e.CiName,
                },
                PropertiesJson = e.PropertiesJson,
                Country = e.Country,
                Region = e.Region,
                Analytics = AnalyticsFields.Derive(new TelemetryEvent { Name = e.Name, Properties = properties }),
            };
        }).ToList();
        var duplicates = await store.WriteAsync(records, [], CancellationToken.None);
        if (duplicates.Any(d => d))
        {
            throw new InvalidOperationException("The seed wrote duplicate event ids.");
        }
    }
}
