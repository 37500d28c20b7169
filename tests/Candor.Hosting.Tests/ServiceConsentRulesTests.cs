using Candor.Consent;
using Candor.TestSupport;

namespace Candor.Hosting.Tests;

/// <summary>The rules of <see cref="ServiceConsent"/>, one source at a time.</summary>
public sealed class ServiceConsentRulesTests
{
    private const string Variable = "ACME_SERVER_TELEMETRY";

    [Theory]
    [InlineData("1", "anonymous", "anonymous", ConsentPolicy.OptOut, TelemetryLevel.Off, "DO_NOT_TRACK")]
    [InlineData(null, "off", "anonymous", ConsentPolicy.OptOut, TelemetryLevel.Off, Variable)]
    [InlineData(null, "local", "off", ConsentPolicy.OptIn, TelemetryLevel.Local, Variable)]
    [InlineData(null, "1", "off", ConsentPolicy.OptIn, TelemetryLevel.Anonymous, Variable)]
    [InlineData(null, "sometimes", "off", ConsentPolicy.OptOut, TelemetryLevel.Off, ServiceConsent.ConfigurationSource)]
    [InlineData(null, null, "on", ConsentPolicy.OptIn, TelemetryLevel.Anonymous, ServiceConsent.ConfigurationSource)]
    [InlineData(null, null, "false", ConsentPolicy.OptOut, TelemetryLevel.Off, ServiceConsent.ConfigurationSource)]
    [InlineData(null, null, "identified", ConsentPolicy.OptIn, TelemetryLevel.Anonymous, ServiceConsent.ConfigurationSource)]
    [InlineData("0", null, null, ConsentPolicy.OptOut, TelemetryLevel.Anonymous, "default policy")]
    [InlineData(null, null, "", ConsentPolicy.OptIn, TelemetryLevel.Off, "default policy")]
    public void TheStrongestSourceThatSaysSomethingDecides(string? doNotTrack, string? variable, string? configured, ConsentPolicy policy,
        TelemetryLevel level, string decidedBy)
    {
        using var environment = new FakeEnvironment();
        environment.Variables["DO_NOT_TRACK"] = doNotTrack;
        environment.Variables[Variable] = variable;

        var variables = ServiceConsent.ReadVariables(environment, Variable);

        Assert.Equal((level, decidedBy), ServiceConsent.Decide(variables, configured, policy));
    }

    [Fact]
    public void AnUnknownVariableValueIsIgnoredWithAProblemForTheLog()
    {
        using var environment = new FakeEnvironment();
        environment.Variables[Variable] = "sometimes";

        var variables = ServiceConsent.ReadVariables(environment, Variable);

        Assert.Null(variables.ToolLevel);
        Assert.Contains("ACME_SERVER_TELEMETRY='sometimes' is ignored", variables.Problem, StringComparison.Ordinal);
        Assert.Equal("", environment.Error);
    }

    [Fact]
    public void TheInstallIdIsMadeOnceWithItsInitialVersionAndKept()
    {
        using var state = new TemporaryDirectory();
        var directory = state.Combine("state", "acme-server");

        var first = ServiceConsent.ResolveIdentity(directory, "1.0.0");
        var second = ServiceConsent.ResolveIdentity(directory, "2.0.0");

        Assert.True(first.Created);
        Assert.False(first.PerProcess);
        Assert.Equal("1.0.0", first.InitialVersion);
        Assert.False(second.Created);
        Assert.Equal(first.InstallId, second.InstallId);
        Assert.Equal("1.0.0", second.InitialVersion);
        Assert.Equal(["telemetry.toml", "telemetry.toml.lock"], Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AnIdMadeByAClientThatDidNotRecordItsVersionGetsTheCurrentOne()
    {
        using var state = new TemporaryDirectory();
        var id = Guid.NewGuid();
        File.WriteAllText(Path.Combine(state.Path, "telemetry.toml"), $"install_id = \"{id}\"\n");

        var identity = ServiceConsent.ResolveIdentity(state.Path, "3.1.0");

        Assert.Equal(id, identity.InstallId);
        Assert.False(identity.Created);
        Assert.Equal("3.1.0", identity.InitialVersion);
    }

    [Fact]
    public void AnUnusableStateDirectoryGivesAPerProcessIdAndCreatesNothing()
    {
        using var state = new TemporaryDirectory();
        var file = state.Combine("file");
        File.WriteAllText(file, "");

        var identity = ServiceConsent.ResolveIdentity(Path.Combine(file, "state"), "1.0.0");
        var other = ServiceConsent.ResolveIdentity(Path.Combine(file, "state"), "1.0.0");

        Assert.True(identity.PerProcess);
        Assert.False(identity.Created);
        Assert.Null(identity.InitialVersion);
        Assert.NotNull(identity.Problem);
        Assert.NotEqual(identity.InstallId, other.InstallId);
        Assert.Equal([file], Directory.GetFileSystemEntries(state.Path));
    }

    [Fact]
    public void AnUnreadableIdentityFileIsLeftAsItIsAndGivesAPerProcessId()
    {
        using var state = new TemporaryDirectory();
        var path = Path.Combine(state.Path, "telemetry.toml");
        File.WriteAllText(path, "install_id = 42\n");

        var identity = ServiceConsent.ResolveIdentity(state.Path, "1.0.0");

        Assert.True(identity.PerProcess);
        Assert.Equal("install_id = 42\n", File.ReadAllText(path));
    }
}
