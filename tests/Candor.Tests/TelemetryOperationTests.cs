using System.Diagnostics.Tracing;
using Candor.Catalog;
using Candor.Protocol;
using Candor.Tests.Delivery;
using Candor.TestSupport;

namespace Candor.Tests;

public sealed class TelemetryOperationTests
{
    private static readonly EventCatalog Catalog = new EventCatalog()
        .Add(EventDefinition.Operation("import", "Records were imported.")
            .Count("records", "Records imported.")
            .Count("batches", "Batches sent."))
        .Add(EventDefinition.Operation("build", "A build ran."));

    [Fact]
    public void ACountIsDeclaredAsAnOptionalIntegerOfAtLeastZero()
    {
        var definition = EventDefinition.Operation("import", "Records were imported.").Count("records", "Records imported.");

        var count = definition.Properties[definition.IndexOf("records")];
        Assert.Equal(PropertyType.Integer, count.Type);
        Assert.Equal(0, count.Minimum);
        Assert.Null(count.Maximum);
        Assert.False(count.Required);
        Assert.Equal("Records imported.", count.Description);
    }

    [Fact]
    public async Task CountsSetAndAddedArriveWithTheOperationsEvent()
    {
        var events = await RecordAsync(client =>
        {
            using var operation = client.StartOperation("import");
            operation.Count("records", 5);
            operation.Count("records", 42); // the last value wins
            operation.Add("batches");
            operation.Add("batches", 2);
            operation.Fail("E_PARTIAL");
        });

        var properties = Assert.Single(events).Properties!;
        Assert.Equal(42, properties["records"].AsInteger);
        Assert.Equal(3, properties["batches"].AsInteger);
        Assert.Equal("failure", properties["outcome"].AsString);
        Assert.Equal("E_PARTIAL", properties["error_code"].AsString);
        Assert.True(properties["duration_ms"].AsInteger >= 0);
    }

    [Fact]
    public async Task CountsAddedFromSeveralThreadsAreAllCounted()
    {
        var events = await RecordAsync(client =>
        {
            using var operation = client.StartOperation("import");
            Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
            {
                for (var i = 0; i < 1000; i++)
                {
                    operation.Add("records", 3);
                    operation.Add("batches");
                }
            });
        });

        var properties = Assert.Single(events).Properties!;
        Assert.Equal(24_000, properties["records"].AsInteger);
        Assert.Equal(8_000, properties["batches"].AsInteger);
    }

    [Fact]
    public async Task ANegativeOrMisnamedCountIsReportedNotThrownAndNotSent()
    {
        using var listener = new DroppedPropertyListener("import");
        var events = await RecordAsync(client =>
        {
            using var operation = client.StartOperation("import");
            operation.Count("records", -1);
            operation.Add("batches", -2);
            operation.Count("rows", 7);            // not declared: dropped by the catalog
            operation.Count(null!, 1);
            operation.Count("duration_ms", 99_999); // the operation's own property
            operation.Add("records", 1);
            operation.Add("records", long.MaxValue); // saturates instead of wrapping below zero
        });

        var properties = Assert.Single(events).Properties!;
        Assert.Equal(long.MaxValue, properties["records"].AsInteger);
        Assert.False(properties.ContainsKey("batches"));
        Assert.False(properties.ContainsKey("rows"));
        Assert.NotEqual(99_999, properties["duration_ms"].AsInteger);
        Assert.Equal("success", properties["outcome"].AsString);
        Assert.Superset(new HashSet<string> { "records", "batches", "rows", "", "duration_ms" }, listener.Properties.ToHashSet());
        Assert.Subset(listener.Properties.ToHashSet(), new HashSet<string> { "records", "batches", "rows", "", "duration_ms" });
    }

    [Fact]
    public async Task AnOperationWithoutCountsRecordsWhatItAlwaysDid()
    {
        var events = await RecordAsync(client =>
        {
            using (client.StartOperation("import"))
            {
            }

            using (client.StartOperation("build"))
            {
            }
        });

        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(["duration_ms", "outcome"], e.Properties!.Keys.Order()));
    }

    [Fact]
    public async Task CountsAfterTheOperationWasRecordedChangeNothing()
    {
        var events = await RecordAsync(client =>
        {
            var operation = client.StartOperation("import");
            operation.Count("records", 1);
            operation.Dispose();
            operation.Count("records", 2);
            operation.Add("batches");
            operation.Dispose();
        });

        var properties = Assert.Single(events).Properties!;
        Assert.Equal(1, properties["records"].AsInteger);
        Assert.False(properties.ContainsKey("batches"));
    }

    private static async Task<List<TelemetryEvent>> RecordAsync(Action<CandorClient> record)
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress, o => o.Catalog = Catalog), environment);
        record(client);
        client.Dispose();
        return [.. collector.Events];
    }

    /// <summary>Collects the properties the SDK reports dropped for one event; other tests' reports are ignored.</summary>
    private sealed class DroppedPropertyListener(string eventName) : EventListener
    {
        private readonly List<string> _properties = [];

        public IReadOnlyList<string> Properties
        {
            get
            {
                lock (_properties)
                {
                    return [.. _properties];
                }
            }
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Candor")
            {
                EnableEvents(eventSource, EventLevel.Warning);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName == "PropertyDropped" && eventData.Payload is [string name, string property, _] && name == eventName)
            {
                lock (_properties)
                {
                    _properties.Add(property);
                }
            }
        }
    }
}
