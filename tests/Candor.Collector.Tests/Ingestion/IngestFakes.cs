using System.Collections.Concurrent;
using System.Net;
using Candor.Collector.Enrichment;
using Candor.Collector.Ingestion;
using Candor.Collector.Schemas;
using Candor.Collector.Security;
using Candor.Collector.Storage;
using Candor.Protocol;
using Candor.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Candor.Collector.Tests.Ingestion;

/// <summary>A door with one write key for one product, facts and an arrival of the test's choosing,
/// and counters that record what they were told.</summary>
internal sealed class FakeDoor(string writeKey = FakeDoor.Key, string product = FakeDoor.Product) : IIngestDoor
{
    public const string Key = "wk_fake_0123456789";
    public const string Product = "acme";

    public ClientFacts Facts { get; init; } = new("NZ", "AUK", "pseudonym");

    /// <summary>When set, every batch arrives then instead of at the pipeline's now.</summary>
    public DateTimeOffset? Arrival { get; init; }

    public bool WaitsWhenBusy { get; init; }

    public RecordingCounters Recorded { get; } = new();

    public IIngestCounters Counters => Recorded;

    /// <summary>The client addresses the pipeline showed this door.</summary>
    public ConcurrentQueue<IPAddress?> DescribedClients { get; } = new();

    public bool IsKnownWriteKey(string presented) => presented == writeKey;

    public WriteKeyCheck CheckWriteKey(string? presented, string batchProduct) =>
        string.IsNullOrEmpty(presented) ? WriteKeyCheck.Missing
        : presented == writeKey && batchProduct == product ? WriteKeyCheck.Valid
        : WriteKeyCheck.Invalid;

    public DateTimeOffset ArrivalOf(EventBatch batch, DateTimeOffset now) => Arrival ?? now;

    public ClientFacts Describe(EventBatch batch, IPAddress? client)
    {
        DescribedClients.Enqueue(client);
        return Facts;
    }
}

/// <summary>What a door's counters were told.</summary>
internal sealed class RecordingCounters : IIngestCounters
{
    public ConcurrentQueue<string> Refusals { get; } = new();

    public ConcurrentQueue<string> Rejections { get; } = new();

    public ConcurrentQueue<(string Product, int Accepted, int Duplicates)> Stores { get; } = new();

    public void Refused(string code) => Refusals.Enqueue(code);

    public void Rejected(string reason) => Rejections.Enqueue(reason);

    public void Stored(string product, int accepted, int duplicates) => Stores.Enqueue((product, accepted, duplicates));
}

/// <summary>A store in memory: keeps each group it is given, reports ids it has seen as duplicates,
/// and fails a write with <see cref="Failure"/> when one is set.</summary>
internal sealed class RecordingEventWriter : IEventWriter
{
    private readonly HashSet<Guid> _ids = [];

    public ConcurrentQueue<EventRecord> Events { get; } = new();

    public ConcurrentQueue<QuarantineRecord> Quarantine { get; } = new();

    public Exception? Failure { get; set; }

    public int ConcurrentWrites => 1;

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<bool[]> WriteAsync(IReadOnlyList<EventRecord> events, IReadOnlyList<QuarantineRecord> quarantine, CancellationToken cancellationToken)
    {
        if (Failure is { } failure)
        {
            throw failure;
        }

        var duplicates = new bool[events.Count];
        for (var i = 0; i < events.Count; i++)
        {
            duplicates[i] = !_ids.Add(events[i].Id);
            if (!duplicates[i])
            {
                Events.Enqueue(events[i]);
            }
        }

        foreach (var record in quarantine)
        {
            Quarantine.Enqueue(record);
        }

        return Task.FromResult(duplicates);
    }
}

/// <summary>Batches and schemas for tests that drive ingest's parts directly.</summary>
internal static class IngestSamples
{
    public const string CommandProperties = """{"command":{"type":"string","maxLength":1024},"exit_code":{"type":"integer"},"duration_ms":{"type":"integer","minimum":0}}""";

    /// <summary>A registry that knows <c>acme/command/1-0-0</c> (command, exit_code, duration_ms; nothing else).</summary>
    public static async Task<SchemaRegistry> SchemasAsync(TemporaryDirectory directory)
    {
        var registry = new SchemaRegistry(new CollectorOptions { SchemaDirectory = directory.Path }, NullLogger<SchemaRegistry>.Instance);
        await registry.RegisterAsync(FakeDoor.Product, [("command", "1-0-0", $$"""
            {"$schema":"http://json-schema.org/draft-07/schema#",
             "self":{"vendor":"acme","name":"command","format":"jsonschema","version":"1-0-0"},
             "type":"object","properties":{{CommandProperties}},"additionalProperties":false}
            """)]);
        return registry;
    }

    public static TelemetryEvent Command(DateTimeOffset time, string command = "run", Guid? id = null) => new()
    {
        Id = id ?? Guid.CreateVersion7(),
        Name = "command",
        Time = time,
        Properties = new Dictionary<string, PropertyValue> { ["command"] = command, ["exit_code"] = 0, ["duration_ms"] = 12 },
    };

    public static EventBatch Batch(DateTimeOffset sentAt, params TelemetryEvent[] events) => new()
    {
        SentAt = sentAt,
        Context = new EventContext { Product = FakeDoor.Product, ProductVersion = "1.4.0" },
        Events = [.. events],
    };
}
