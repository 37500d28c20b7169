using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Candor.Protocol;
using Candor.Tests.Consent;
using Candor.Tests.Fakes;

namespace Candor.Tests;

public sealed class CandorClientTests
{
    [Fact]
    public async Task TrackedEventsAreSentGzippedWithTheWriteKeyWhenTheClientIsDisposed()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        var client = ConsentedClients.Anonymous(new CandorOptions
        {
            ProductName = "acme",
            ProductVersion = "2.0.0",
            Endpoint = collector.BaseAddress,
            WriteKey = "wk_test",
            FlushBudget = TimeSpan.FromSeconds(5),
        });

        client.Track("command", new Dictionary<string, PropertyValue> { ["command"] = "run", ["nodes"] = 3 });
        client.Track("command", new Dictionary<string, PropertyValue> { ["command"] = "new" });
        client.Dispose();

        var request = Assert.Single(collector.Requests);
        Assert.Equal("wk_test", request.WriteKey);
        Assert.Equal("gzip", request.ContentEncoding);
        Assert.Equal("acme", request.Batch.Context.Product);
        Assert.Equal("2.0.0", request.Batch.Context.ProductVersion);
        Assert.Equal(["run", "new"], request.Batch.Events.Select(e => e.Properties!["command"].AsString));
        Assert.Equal(3, request.Batch.Events[0].Properties!["nodes"].AsInteger);
        Assert.All(request.Batch.Events, e => Assert.Equal(7, e.Id.Version));
        Assert.NotEqual(request.Batch.Events[0].Id, request.Batch.Events[1].Id);
    }

    [Fact]
    public void DisposeGivesUpWithinTheFlushBudgetWhenTheCollectorNeverAnswers()
    {
        // A listener that accepts connections and never reads or answers.
        using var blackhole = new TcpListener(IPAddress.Loopback, 0);
        blackhole.Start();
        var port = ((IPEndPoint)blackhole.LocalEndpoint).Port;
        var client = ConsentedClients.Anonymous(new CandorOptions
        {
            ProductName = "acme",
            Endpoint = new Uri($"http://127.0.0.1:{port}/"),
            FlushBudget = TimeSpan.FromMilliseconds(200),
        });
        client.Track("command");

        var stopwatch = Stopwatch.StartNew();
        client.Dispose();
        stopwatch.Stop();

        // A loose bound: the point is that it does not hang; precise figures come from the benchmark.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"Dispose took {stopwatch.Elapsed}.");
    }

    [Fact]
    public async Task AFullQueueDropsAndCountsNewEventsInsteadOfWaiting()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        var client = ConsentedClients.Anonymous(new CandorOptions
        {
            ProductName = "acme",
            Endpoint = collector.BaseAddress,
            QueueCapacity = 3,
            FlushBudget = TimeSpan.FromSeconds(5),
        });

        for (var i = 0; i < 10; i++)
        {
            client.Track("tick", new Dictionary<string, PropertyValue> { ["i"] = i });
        }

        Assert.Equal(7, client.DroppedCount);
        client.Dispose();
        Assert.Equal([0L, 1L, 2L], collector.Events.Select(e => e.Properties!["i"].AsInteger));
    }

    [Fact]
    public void TrackAfterDisposeIsIgnoredWithoutThrowing()
    {
        var client = ConsentedClients.Anonymous(new CandorOptions { ProductName = "acme" });
        client.Dispose();

        client.Track("late");
        client.Track("");
    }

    [Fact]
    public void InvalidOptionsAreRefusedWithEveryProblemListed()
    {
        var error = Assert.Throws<ArgumentException>(() => CandorClient.Create(new CandorOptions
        {
            ProductName = "Acme Tool",
            Endpoint = new Uri("ftp://example.com/"),
            FlushBudget = TimeSpan.FromMinutes(1),
            QueueCapacity = 0,
        }));

        Assert.Contains("ProductName", error.Message, StringComparison.Ordinal);
        Assert.Contains("Endpoint", error.Message, StringComparison.Ordinal);
        Assert.Contains("FlushBudget", error.Message, StringComparison.Ordinal);
        Assert.Contains("QueueCapacity", error.Message, StringComparison.Ordinal);
    }
}
