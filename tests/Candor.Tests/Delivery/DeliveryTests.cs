using System.Text.Json;
using Candor.Tests.Fakes;
using Candor.TestSupport;

namespace Candor.Tests.Delivery;

public sealed class DeliveryTests
{
    [Fact]
    public async Task ABurstOfEventsLeavesInGzippedBatchesOfTheConfiguredSize()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress, o => o.BatchSize = 10), environment);

        for (var i = 0; i < 25; i++)
        {
            client.Track("tick", new EventProperty("i", i));
        }

        client.Dispose();

        Assert.Equal([10, 10, 5], collector.Requests.Select(r => r.Batch.Events.Count));
        Assert.Equal(Enumerable.Range(0, 25).Select(i => (long)i), collector.Events.Select(e => e.Properties!["i"].AsInteger));
        Assert.All(collector.Requests, r => Assert.Equal("gzip", r.ContentEncoding)); // each body is over 1 KiB
    }

    [Fact]
    public async Task ABatchIsCutWhenItReachesTheByteLimit()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress, o => o.MaxBatchBytes = 4096), environment);

        for (var i = 0; i < 40; i++)
        {
            client.Track("command", new EventProperty("command", new string('x', 150)));
        }

        client.Dispose();

        Assert.True(collector.Requests.Count >= 3, $"{collector.Requests.Count} requests");
        Assert.Equal(40, collector.Events.Count());
    }

    [Fact]
    public async Task ALongRunningClientSendsOnTheBatchIntervalWithoutBeingFlushed()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        using var client = TestClients.Create(TestClients.Options(collector.BaseAddress, o => o.BatchInterval = TimeSpan.FromMilliseconds(100)), environment);

        client.Track("tick", new EventProperty("i", 1));

        await TestClients.Eventually(() => collector.Events.Any(), "the event was sent on the interval");
    }

    [Fact]
    public async Task FlushAsyncSendsWhatIsQueuedWithoutWaitingForTheInterval()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        using var client = TestClients.Create(TestClients.Options(collector.BaseAddress, o => o.BatchInterval = TimeSpan.FromMinutes(5)), environment);

        client.Track("tick", new EventProperty("i", 1));
        await client.FlushAsync();

        Assert.Single(collector.Events);
    }

    [Fact]
    public async Task A503WithRetryAfterIsRetriedNoSoonerThanAskedAndWithTheSameEventIds()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        var answers = 0;
        collector.Respond = _ => Interlocked.Increment(ref answers) == 1 ? new StatusResult(503, retryAfterSeconds: 1) : new StatusResult(200);
        using var environment = new FakeEnvironment();
        using var client = TestClients.Create(TestClients.Options(collector.BaseAddress, o =>
        {
            o.BatchInterval = TimeSpan.FromMilliseconds(10);
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
        }), environment);

        client.Track("tick", new EventProperty("i", 1));
        client.Track("tick", new EventProperty("i", 2));
        await TestClients.Eventually(() => collector.Requests.Count >= 2, "the batch was retried");

        var requests = collector.Requests.ToArray();
        Assert.True(requests[1].At - requests[0].At >= TimeSpan.FromMilliseconds(950), $"retried after {requests[1].At - requests[0].At}");
        Assert.Equal(requests[0].Batch.Events.Select(e => e.Id), requests[1].Batch.Events.Select(e => e.Id));
        Assert.Empty(environment.SpoolFiles());
    }

    [Fact]
    public async Task ACollectorThatKeepsFailingIsTriedABoundedNumberOfTimesThenTheBatchIsSpooled()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        collector.Respond = _ => new StatusResult(503);
        using var environment = new FakeEnvironment();
        using var client = TestClients.Create(TestClients.Options(collector.BaseAddress, o =>
        {
            o.BatchInterval = TimeSpan.FromMilliseconds(10);
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(100);
            o.MaxAttempts = 3;
        }), environment);

        for (var i = 0; i < 50; i++)
        {
            client.Track("tick", new EventProperty("i", i));
        }

        await TestClients.Eventually(() => environment.SpoolFiles().Length == 1, "the batch was spooled");
        await Task.Delay(500);

        // Three attempts for the one batch, spaced by the backoff: no storm, whatever the event count.
        Assert.Equal(3, collector.Requests.Count);
        var times = collector.Requests.Select(r => r.At).ToArray();
        Assert.True(times[1] - times[0] >= TimeSpan.FromMilliseconds(45), $"{times[1] - times[0]}");
        Assert.True(times[2] - times[1] >= TimeSpan.FromMilliseconds(95), $"{times[2] - times[1]}");
    }

    [Fact]
    public async Task ARefusedBatchIsNeitherRetriedNorSpooled()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        collector.Respond = _ => new StatusResult(400);
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress), environment);

        client.Track("tick", new EventProperty("i", 1));
        client.Dispose();

        Assert.Single(collector.Requests);
        Assert.Empty(environment.SpoolFiles());
    }

    [Fact]
    public async Task WhenTheCollectorIsDownEventsAreSpooledAndTheNextClientDeliversThemWithTheirIds()
    {
        using var environment = new FakeEnvironment();
        await SpoolWhileTheCollectorIsDownAsync(environment, TelemetryLevel.Anonymous, 1, 2);

        var spooled = Assert.Single(environment.SpoolFiles());
        var spooledIds = JsonDocument.Parse(File.ReadAllText(spooled)).RootElement.GetProperty("events").EnumerateArray()
            .Select(e => e.GetProperty("id").GetGuid()).ToList();

        await using var collector = await LoopbackCollector.StartAsync();
        var second = TestClients.Create(TestClients.Options(collector.BaseAddress), environment);
        second.Track("tick", new EventProperty("i", 3));
        await TestClients.Eventually(() => collector.Events.Count() >= 2, "the spool was drained");
        second.Dispose();

        Assert.Equal([1L, 2L, 3L], collector.Events.Select(e => e.Properties!["i"].AsInteger).Order());
        Assert.Equal(spooledIds, collector.Requests.First().Batch.Events.Select(e => e.Id));
        Assert.Empty(environment.SpoolFiles());
    }

    [Fact]
    public async Task WarmUpPreparesDeliveryBeforeAnyEventAndSendsOnlyWhatEarlierRunsSpooled()
    {
        using var environment = new FakeEnvironment();
        await SpoolWhileTheCollectorIsDownAsync(environment, TelemetryLevel.Anonymous, 1);

        Assert.Single(environment.SpoolFiles());
        await using var collector = await LoopbackCollector.StartAsync();

        // Without WarmUp (and with the idle delay out of reach) the thread waits for the first event.
        var idle = TestClients.Create(TestClients.Options(collector.BaseAddress, o => o.IdleWarmUpDelay = TimeSpan.FromHours(1)), environment);
        await Task.Delay(300);
        Assert.Empty(collector.Requests);
        Assert.Single(environment.SpoolFiles());
        idle.Dispose();

        // WarmUp starts the preparation at once: the spool left by the earlier run is delivered, nothing else is sent.
        var warm = TestClients.Create(TestClients.Options(collector.BaseAddress, o => o.IdleWarmUpDelay = TimeSpan.FromHours(1)), environment);
        warm.WarmUp();
        // Drained means sent and then deleted. Wait for both before disposing: a client that recorded
        // nothing does not wait for an earlier run's spool at exit, so disposing between the answer
        // and the deletion would leave the file for the next run (the collector dedups the resend).
        await TestClients.Eventually(() => collector.Events.Any() && environment.SpoolFiles().Length == 0, "the spool was drained after WarmUp");
        warm.Dispose();

        Assert.Equal([1L], collector.Events.Select(e => e.Properties!["i"].AsInteger));
        Assert.Empty(environment.SpoolFiles());
    }

    [Fact]
    public async Task SpooledEventsRecordedUnderAHigherConsentLevelAreDeletedNotSent()
    {
        using var environment = new FakeEnvironment();
        await SpoolWhileTheCollectorIsDownAsync(environment, TelemetryLevel.Identified, 1);

        Assert.Single(environment.SpoolFiles());
        await using var collector = await LoopbackCollector.StartAsync();
        var anonymous = TestClients.Create(TestClients.Options(collector.BaseAddress), environment, TelemetryLevel.Anonymous);
        anonymous.Track("tick", new EventProperty("i", 2));
        anonymous.Dispose();

        Assert.Equal([2L], collector.Events.Select(e => e.Properties!["i"].AsInteger));
        Assert.Null(Assert.Single(collector.Requests).Batch.Context.UserId);
        Assert.Empty(environment.SpoolFiles());
    }

    [Fact]
    public async Task UnderOffNothingIsQueuedWrittenSentOrStarted()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress), environment, TelemetryLevel.Off);

        client.Track("tick", new EventProperty("i", 1));
        client.TrackCommand("run", ["run"], ["run"], 0, TimeSpan.Zero);
        client.TrackError(new InvalidOperationException());
        client.WarmUp();
        await client.FlushAsync();
        client.Dispose();

        Assert.False(client.IsRunning);
        Assert.Empty(collector.Requests);
        Assert.Empty(environment.Files());
    }

    [Fact]
    public async Task UnderLocalEventsGoToTheTransparencyLogOnlyAndNothingIsSent()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress), environment, TelemetryLevel.Local);

        client.Track("tick", new EventProperty("i", 7));
        client.Dispose();

        Assert.Empty(collector.Requests);
        Assert.Equal(["acme/telemetry/transparency.jsonl"], environment.Files().Select(f => f.Replace('\\', '/').Replace(".local/state/", "", StringComparison.Ordinal)));
        var line = Assert.Single(File.ReadAllLines(environment.TransparencyLogPath));
        using var logged = JsonDocument.Parse(line);
        Assert.Equal("tick", logged.RootElement.GetProperty("name").GetString());
        Assert.Equal(7, logged.RootElement.GetProperty("properties").GetProperty("i").GetInt32());
    }

    [Fact]
    public async Task UnderAnonymousTheContextCarriesTheInstallIdButNeverTheUserId()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress), environment, TelemetryLevel.Anonymous);

        client.Track("tick", new EventProperty("i", 1));
        client.Dispose();

        var context = Assert.Single(collector.Requests).Batch.Context;
        Assert.NotNull(context.InstallId);
        Assert.Null(context.UserId);
    }

    /// <summary>One client run at <paramref name="level"/> against a collector that refuses connections:
    /// its "tick" events (property <c>i</c>) end in the spool.</summary>
    private static async Task SpoolWhileTheCollectorIsDownAsync(FakeEnvironment environment, TelemetryLevel level, params long[] values)
    {
        await using var down = new FaultyServer(Fault.ConnectionRefused);
        var client = TestClients.Create(TestClients.Options(down.BaseAddress), environment, level);
        foreach (var i in values)
        {
            client.Track("tick", new EventProperty("i", i));
        }

        client.Dispose();
    }
}
