using System.Diagnostics;
using Candor.Protocol;
using Candor.Tests.Delivery;
using Candor.TestSupport;

namespace Candor.Tests;

public sealed class CandorClientTests
{
    [Fact]
    public async Task TrackedEventsAreSentWithTheWriteKeyWhenTheClientIsDisposed()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress), environment);

        client.Track("command", new Dictionary<string, PropertyValue> { ["command"] = "run", ["exit_code"] = 3 });
        client.Track("command", new EventProperty("command", "new"));
        client.Dispose();

        var request = Assert.Single(collector.Requests);
        Assert.Equal("wk_test", request.WriteKey);
        Assert.Equal("", request.ContentEncoding); // a small body is not worth gzip's set-up cost
        Assert.Equal("acme", request.Batch.Context.Product);
        Assert.Equal("2.0.0", request.Batch.Context.ProductVersion);
        Assert.Equal(["run", "new"], request.Batch.Events.Select(e => e.Properties!["command"].AsString));
        Assert.Equal(3, request.Batch.Events[0].Properties!["exit_code"].AsInteger);
        Assert.All(request.Batch.Events, e => Assert.Equal(7, e.Id.Version));
        Assert.All(request.Batch.Events, e => Assert.Equal("1-0-0", e.Version));
        Assert.NotEqual(request.Batch.Events[0].Id, request.Batch.Events[1].Id);
    }

    [Fact]
    public async Task DisposeGivesUpWithinTheFlushBudgetWhenTheCollectorNeverAnswersAndSpoolsTheEvents()
    {
        await using var blackhole = new FaultyServer(Fault.AcceptAndNeverAnswer);
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(blackhole.BaseAddress, o => o.FlushBudget = TimeSpan.FromMilliseconds(200)), environment);
        client.Track("tick", new EventProperty("i", 1));

        var stopwatch = Stopwatch.StartNew();
        client.Dispose();
        stopwatch.Stop();

        // A loose bound: the point is that it does not hang; precise figures come from the benchmark.
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"Dispose took {stopwatch.Elapsed}.");
        // The delivery thread spools what it could not send once the budget's sending part is over;
        // on a starved CI machine that write can finish just after Dispose has returned.
        var spooled = SpinWait.SpinUntil(() => environment.SpoolFiles().Length == 1, TimeSpan.FromSeconds(5));
        Assert.True(spooled, $"Dispose took {stopwatch.Elapsed}; files: {string.Join(", ", environment.Files())}");
    }

    [Fact]
    public async Task AFullQueueDropsAndCountsNewEventsInsteadOfWaiting()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress, o => o.QueueCapacity = 3), environment);

        for (var i = 0; i < 10; i++)
        {
            client.Track("tick", new EventProperty("i", i));
        }

        Assert.Equal(7, client.DroppedCount);
        client.Dispose();
        Assert.Equal([0L, 1L, 2L], collector.Events.Select(e => e.Properties!["i"].AsInteger));
    }

    [Fact]
    public void TrackAfterDisposeIsIgnoredWithoutThrowing()
    {
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(null), environment);
        client.Dispose();

        client.Track("tick", new EventProperty("i", 1));
        client.Track("");
        client.Track(null!, (IReadOnlyDictionary<string, PropertyValue>?)null);
        client.TrackError(new InvalidOperationException());
        client.StartOperation("build").Dispose();
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
            BatchSize = 5000,
            SpoolMaxAge = TimeSpan.Zero,
        }));

        Assert.Contains("ProductName", error.Message, StringComparison.Ordinal);
        Assert.Contains("Endpoint", error.Message, StringComparison.Ordinal);
        Assert.Contains("FlushBudget", error.Message, StringComparison.Ordinal);
        Assert.Contains("QueueCapacity", error.Message, StringComparison.Ordinal);
        Assert.Contains("BatchSize", error.Message, StringComparison.Ordinal);
        Assert.Contains("SpoolMaxAge", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheDefaultsAreTheDocumentedOnes()
    {
        var options = new CandorOptions();

        Assert.Equal(TimeSpan.FromMilliseconds(200), options.FlushBudget);
        Assert.Equal(TimeSpan.FromDays(7), options.SpoolMaxAge);
        Assert.Equal(100, options.TransparencyLogSize);
        Assert.Equal(100, options.BatchSize);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ConnectTimeout);
    }

    [Fact]
    public async Task AnOperationRecordsItsDurationAndOutcomeAndAnErrorOnlyItsTypeAndCode()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress), environment);

        using (client.StartOperation("build"))
        {
        }

        using (var failing = client.StartOperation("build"))
        {
            failing.Fail(new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
        }

        client.TrackError(new FileNotFoundException("Could not find /home/alice/secret-plans.txt"));
        client.Dispose();

        var events = collector.Events.ToList();
        Assert.Equal(3, events.Count);
        Assert.Equal("success", events[0].Properties!["outcome"].AsString);
        Assert.True(events[0].Properties!["duration_ms"].AsInteger >= 0);
        Assert.False(events[0].Properties!.ContainsKey("error_code"));
        Assert.Equal("failure", events[1].Properties!["outcome"].AsString);
        Assert.Equal("ConnectionRefused", events[1].Properties!["error_code"].AsString);
        Assert.Equal("error", events[2].Name);
        Assert.Equal("System.IO.FileNotFoundException", events[2].Properties!["error_type"].AsString);
        Assert.Equal("0x80070002", events[2].Properties!["error_code"].AsString);
        Assert.DoesNotContain(events[2].Properties!.Values, v => v.ToString().Contains("secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TrackCommandMasksEveryValueAndKeepsCommandAndOptionNames()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress), environment);

        client.TrackCommand("run", ["run", "--pipeline", "nightly-load", "--env=prod", "extra"], ["run", "new", "--pipeline", "--env"], exitCode: 2, TimeSpan.FromMilliseconds(1234));
        client.Dispose();

        var properties = Assert.Single(collector.Events).Properties!;
        Assert.Equal("run", properties["command"].AsString);
        Assert.Equal("run --pipeline ***** --env=***** *****", properties["arguments"].AsString);
        Assert.Equal(2, properties["exit_code"].AsInteger);
        Assert.Equal(1234, properties["duration_ms"].AsInteger);
    }
}
