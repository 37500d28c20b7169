using System.Diagnostics;
using Candor.Protocol;
using Candor.Rights;
using Candor.Tests.Delivery;
using Candor.TestSupport;

namespace Candor.Tests.Rights;

public sealed class PendingForgetDeliveryTests
{
    private static readonly Guid Forgotten = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");

    private static void Pending(FakeEnvironment environment, Guid? installId = null) =>
        Assert.Null(PendingForgets.Add(environment.StateDirectory, installId ?? Forgotten, DateTimeOffset.Parse("2026-12-01T10:00:00Z")));

    [Fact]
    public async Task ALaterRunSendsThePendingDeletionBeforeItsEventsAndForgetsTheIdOnceConfirmed()
    {
        await using var standIn = await RightsStandIn.StartAsync();
        using var environment = new FakeEnvironment();
        Pending(environment);
        var client = TestClients.Create(TestClients.Options(standIn.BaseAddress), environment);

        client.Track("tick", new EventProperty("i", 1));
        client.Dispose();

        var forget = Assert.Single(standIn.Calls);
        Assert.Equal((ProtocolConstants.ForgetPath, "wk_test", "acme", Forgotten.ToString("D")), (forget.Path, forget.WriteKey, forget.Product, forget.InstallId));
        Assert.Equal([ProtocolConstants.ForgetPath, ProtocolConstants.EventsPath], standIn.Paths);
        Assert.Empty(PendingForgets.Read(environment.StateDirectory));
        Assert.False(Directory.Exists(PendingForgets.DirectoryOf(environment.StateDirectory)));
    }

    [Fact]
    public async Task AnUnknownInstallIsAConfirmationTooButAPlain404IsNot()
    {
        await using var standIn = await RightsStandIn.StartAsync();
        using var environment = new FakeEnvironment();
        var other = Guid.NewGuid();
        Pending(environment);
        Pending(environment, other);
        standIn.Respond = call => call.InstallId == Forgotten.ToString("D")
            ? RightsReply.Error(404, ErrorCodes.UnknownInstall)
            : new RightsReply(404); // a collector without the endpoint: nothing was deleted
        using var client = TestClients.Create(TestClients.Options(standIn.BaseAddress), environment);

        client.WarmUp();

        await TestClients.Eventually(() => standIn.Calls.Count == 2 && PendingForgets.Read(environment.StateDirectory).Count == 1, "both were asked");
        var kept = Assert.Single(PendingForgets.Read(environment.StateDirectory));
        Assert.Equal(other, kept.InstallId);
        await TestClients.Eventually(() => PendingForgets.Read(environment.StateDirectory)[0].LastRefusal is not null, "the refusal was recorded");
        Assert.Equal("404", PendingForgets.Read(environment.StateDirectory)[0].LastRefusal);
    }

    [Fact]
    public async Task UnderOffAPendingDeletionIsStillSentOnAThreadOfItsOwn()
    {
        await using var standIn = await RightsStandIn.StartAsync();
        using var environment = new FakeEnvironment();
        Pending(environment);

        var client = TestClients.Create(TestClients.Options(standIn.BaseAddress), environment, TelemetryLevel.Off);
        client.Dispose();

        Assert.False(client.IsRunning);
        Assert.True(client.ForgetThread!.Join(TimeSpan.FromSeconds(10)));
        var forget = Assert.Single(standIn.Calls);
        Assert.Equal(("wk_test", "acme", Forgotten.ToString("D")), (forget.WriteKey, forget.Product, forget.InstallId));
        Assert.Empty(PendingForgets.Read(environment.StateDirectory));
    }

    [Fact]
    public async Task UnderLocalAPendingDeletionIsSentToo()
    {
        await using var standIn = await RightsStandIn.StartAsync();
        using var environment = new FakeEnvironment();
        Pending(environment);

        using var client = TestClients.Create(TestClients.Options(standIn.BaseAddress), environment, TelemetryLevel.Local);

        Assert.True(client.ForgetThread!.Join(TimeSpan.FromSeconds(10)));
        Assert.Single(standIn.Calls);
        Assert.Empty(PendingForgets.Read(environment.StateDirectory));
    }

    [Fact]
    public async Task WithNothingPendingOffStartsNoThreadAndSendsNothing()
    {
        await using var standIn = await RightsStandIn.StartAsync();
        using var environment = new FakeEnvironment();

        using var off = TestClients.Create(TestClients.Options(standIn.BaseAddress), environment, TelemetryLevel.Off);
        using var local = TestClients.Create(TestClients.Options(standIn.BaseAddress), environment, TelemetryLevel.Local);
        await Task.Delay(200);

        Assert.Null(off.ForgetThread);
        Assert.Null(local.ForgetThread);
        Assert.Empty(standIn.Calls);
        Assert.Empty(environment.Files());
    }

    [Fact]
    public async Task ARefusalKeepsTheDeletionPendingWithTheReasonAndTheEventsStillGo()
    {
        await using var standIn = await RightsStandIn.StartAsync();
        standIn.Respond = _ => RightsReply.Error(401, ErrorCodes.InvalidWriteKey, "The write key is not valid.");
        using var environment = new FakeEnvironment();
        Pending(environment);
        var client = TestClients.Create(TestClients.Options(standIn.BaseAddress), environment);

        client.Track("tick", new EventProperty("i", 1));
        client.Dispose();

        var kept = Assert.Single(PendingForgets.Read(environment.StateDirectory));
        Assert.Equal(Forgotten, kept.InstallId);
        Assert.Equal(DateTimeOffset.Parse("2026-12-01T10:00:00Z"), kept.RequestedAt);
        Assert.Equal("401 invalid_write_key: The write key is not valid.", kept.LastRefusal);
        Assert.NotNull(kept.RefusedAt);
        Assert.Equal(1, standIn.Batches);
    }

    [Theory]
    [InlineData(503)]
    [InlineData(429)]
    public async Task ABusyCollectorLeavesTheDeletionPendingWithoutARefusal(int status)
    {
        await using var standIn = await RightsStandIn.StartAsync();
        standIn.Respond = _ => new RightsReply(status, RetryAfterSeconds: 30);
        using var environment = new FakeEnvironment();
        Pending(environment);
        var client = TestClients.Create(TestClients.Options(standIn.BaseAddress), environment);

        client.WarmUp();
        await TestClients.Eventually(() => !standIn.Calls.IsEmpty, "the deletion was asked");
        client.Dispose();

        var kept = Assert.Single(PendingForgets.Read(environment.StateDirectory));
        Assert.Null(kept.LastRefusal);
    }

    [Fact]
    public async Task ABlackholedCollectorDelaysNeitherTheStartNorTheExitOfTheHost()
    {
        await using var blackhole = new FaultyServer(Fault.AcceptAndNeverAnswer);
        using var environment = new FakeEnvironment();
        Pending(environment);
        var options = TestClients.Options(blackhole.BaseAddress, o => o.FlushBudget = TimeSpan.FromMilliseconds(200));

        var stopwatch = Stopwatch.StartNew();
        var client = TestClients.Create(options, environment);
        var started = stopwatch.Elapsed;
        client.WarmUp();
        await Task.Delay(300); // the pending deletion is in flight, unanswered
        client.Track("tick", new EventProperty("i", 1));
        stopwatch.Restart();
        client.Dispose();
        var disposed = stopwatch.Elapsed;

        stopwatch.Restart();
        var off = TestClients.Create(options, environment, TelemetryLevel.Off);
        off.Dispose();
        var offRun = stopwatch.Elapsed;

        Assert.True(started < TimeSpan.FromMilliseconds(500), $"the start took {started}");
        Assert.True(disposed < TimeSpan.FromSeconds(2), $"Dispose took {disposed}");
        Assert.True(offRun < TimeSpan.FromMilliseconds(500), $"the run under off took {offRun}");
        Assert.True(off.ForgetThread!.IsAlive, "the deletion under off is still waiting for its answer, in the background");
        Assert.Single(PendingForgets.Read(environment.StateDirectory));
        Assert.True(SpinWait.SpinUntil(() => environment.SpoolFiles().Length == 1, TimeSpan.FromSeconds(5)), "the event was spooled");
    }

    [Fact]
    public async Task BatchesOfAForgottenInstallAreDroppedNotRetriedNorSpooled()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        collector.Respond = _ => new Candor.Tests.Fakes.StatusResult(410);
        using var environment = new FakeEnvironment();
        var client = TestClients.Create(TestClients.Options(collector.BaseAddress, o => o.BatchInterval = TimeSpan.FromMilliseconds(10)), environment);

        client.Track("tick", new EventProperty("i", 1));
        await TestClients.Eventually(() => !collector.Requests.IsEmpty, "the batch was sent");
        await Task.Delay(300);
        client.Dispose();

        Assert.Single(collector.Requests);
        Assert.Empty(environment.SpoolFiles());
    }

    [Fact]
    public void DebugModeSendsNoPendingDeletion()
    {
        using var environment = new FakeEnvironment();
        environment.Variables["ACME_TELEMETRY_DEBUG"] = "1";
        Pending(environment);

        using var client = TestClients.Create(TestClients.Options(new Uri("http://127.0.0.1:9/")), environment);

        Assert.Null(client.ForgetThread);
        Assert.False(client.IsRunning);
    }
}
