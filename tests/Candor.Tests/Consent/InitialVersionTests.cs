using Candor.Consent;
using Candor.Protocol;
using Candor.Tests.Delivery;
using Candor.TestSupport;

namespace Candor.Tests.Consent;

/// <summary>The install's initial version: recorded with the install id, sent with every batch that
/// carries the id, never changed afterwards and deleted with the id.</summary>
public sealed class InitialVersionTests
{
    private const string ExistingId = "0f8fad5b-d9cb-469f-a165-70867728950e";

    [Fact]
    public async Task ANewInstallRecordsItsVersionBesideTheInstallIdAndSendsIt()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = AnonymousEnvironment();

        var context = SendOne(collector, environment, "2.0.0");

        Assert.NotNull(context.InstallId);
        Assert.Equal("2.0.0", context.InitialVersion);
        var saved = File.ReadAllText(environment.UserFile);
        Assert.Contains($"install_id = \"{context.InstallId:D}\"", saved, StringComparison.Ordinal);
        Assert.Contains("initial_version = \"2.0.0\"", saved, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALaterRunOfANewerVersionKeepsSendingTheFirstVersion()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = AnonymousEnvironment();

        var first = SendOne(collector, environment, "2.0.0");
        var later = SendOne(collector, environment, "2.1.0");

        Assert.Equal(first.InstallId, later.InstallId);
        Assert.Equal("2.1.0", later.ProductVersion);
        Assert.Equal("2.0.0", later.InitialVersion);
        Assert.Contains("initial_version = \"2.0.0\"", File.ReadAllText(environment.UserFile), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnInstallIdFromAnOlderClientGetsTheCurrentVersionOnceAndKeepsItsId()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = AnonymousEnvironment();
        environment.WriteUserFile($"level = \"anonymous\"\ninstall_id = \"{ExistingId}\"\nnotice_version = 1\n");

        var first = SendOne(collector, environment, "2.1.0");
        var later = SendOne(collector, environment, "2.2.0");

        Assert.Equal(Guid.Parse(ExistingId), first.InstallId);
        Assert.Equal("2.1.0", first.InitialVersion);
        Assert.Equal(Guid.Parse(ExistingId), later.InstallId);
        Assert.Equal("2.1.0", later.InitialVersion);
        var saved = File.ReadAllText(environment.UserFile);
        Assert.Contains($"install_id = \"{ExistingId}\"", saved, StringComparison.Ordinal);
        Assert.Contains("initial_version = \"2.1.0\"", saved, StringComparison.Ordinal);
    }

    [Fact]
    public void AnInstallIdThatCannotBeGivenItsVersionStillSendsWithoutOne()
    {
        using var environment = AnonymousEnvironment();
        var options = TestClients.Options(null, o => o.ProductVersion = "2.1.0");
        environment.WriteUserFile($"level = \"anonymous\"\ninstall_id = \"{ExistingId}\"\nnotice_version = 1\n");
        // A directory where the lock file would go: every change of the user file is refused.
        Directory.CreateDirectory(environment.UserFile + ".lock");

        var decision = new ConsentResolver(options, environment).Resolve();

        Assert.Equal(TelemetryLevel.Anonymous, decision.Level);
        Assert.Equal(Guid.Parse(ExistingId), decision.InstallId);
        Assert.Null(decision.InitialVersion);
        Assert.DoesNotContain("initial_version", File.ReadAllText(environment.UserFile), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DO_NOT_TRACK", "1")]
    [InlineData("ACME_TELEMETRY", "off")]
    [InlineData("ACME_TELEMETRY", "local")]
    public void BelowAnonymousNothingIsWrittenAndNoInitialVersionIsSent(string variable, string value)
    {
        using var environment = new FakeEnvironment();
        environment.Variables[variable] = value;
        var options = TestClients.Options(null, o => o.ProductVersion = "2.0.0");

        var decision = new ConsentResolver(options, environment).Resolve();
        using var client = new CandorClient(options, decision, environment, TimeProvider.System);

        Assert.True(decision.Level < TelemetryLevel.Anonymous);
        Assert.Null(decision.InitialVersion);
        Assert.Null(client.Context.InitialVersion);
        Assert.Empty(environment.Files());
    }

    [Fact]
    public void AnOffChoiceDeletesTheInitialVersionWithTheInstallId()
    {
        using var environment = new FakeEnvironment();
        environment.WriteUserFile($"level = \"off\"\ninstall_id = \"{ExistingId}\"\ninitial_version = \"1.0.0\"\n");

        var decision = new ConsentResolver(TestClients.Options(null), environment).Resolve();

        Assert.Equal(TelemetryLevel.Off, decision.Level);
        Assert.Null(decision.InitialVersion);
        var saved = File.ReadAllText(environment.UserFile);
        Assert.DoesNotContain("install_id", saved, StringComparison.Ordinal);
        Assert.DoesNotContain("initial_version", saved, StringComparison.Ordinal);
    }

    [Fact]
    public void AnInitialVersionThatIsNotAVersionMakesTheUserFileUnreadable()
    {
        using var environment = new FakeEnvironment();
        var contents = $"level = \"anonymous\"\ninstall_id = \"{ExistingId}\"\ninitial_version = 3\n";
        environment.WriteUserFile(contents);

        var decision = new ConsentResolver(TestClients.Options(null), environment).Resolve();

        Assert.Equal(TelemetryLevel.Off, decision.Level);
        Assert.Contains("initial_version = 3 is not a version", environment.Error, StringComparison.Ordinal);
        Assert.Equal(contents, File.ReadAllText(environment.UserFile));
    }

    private static FakeEnvironment AnonymousEnvironment()
    {
        var environment = new FakeEnvironment();
        environment.Variables["ACME_TELEMETRY"] = "anonymous";
        return environment;
    }

    /// <summary>One run of the tool at <paramref name="version"/>: resolves consent as a real run does,
    /// sends one event and returns the context the collector received.</summary>
    private static EventContext SendOne(LoopbackCollector collector, FakeEnvironment environment, string version)
    {
        var before = collector.Requests.Count;
        var options = TestClients.Options(collector.BaseAddress, o => o.ProductVersion = version);
        using (var client = CandorClient.CreateInEnvironment(options, environment, TimeProvider.System))
        {
            client.Track("tick", new EventProperty("i", 1));
        }

        Assert.Equal(before + 1, collector.Requests.Count);
        return collector.Requests.Last().Batch.Context;
    }
}
