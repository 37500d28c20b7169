using System.Security.Cryptography;
using System.Text;
using Candor.Consent;
using Candor.Platform;
using Candor.TestSupport;
using static Candor.Tests.Consent.ConsentPrecedenceTests;

namespace Candor.Tests.Consent;

public sealed class ConsentResolverTests
{
    [Fact]
    public void UnderOptOutTheFirstRunShowsTheNoticeOnceAndTheSecondRunIsAnonymousWithAnInstallId()
    {
        using var environment = new FakeEnvironment();
        var options = AcmeOptions(ConsentPolicy.OptOut);

        var first = new ConsentResolver(options, environment).Resolve();
        var noticeAfterFirst = environment.Error;
        var second = new ConsentResolver(options, environment).Resolve();
        var third = new ConsentResolver(options, environment).Resolve();

        Assert.Equal(TelemetryLevel.Off, first.Level);
        Assert.Null(first.InstallId);
        Assert.Contains("acme collects anonymous usage data", noticeAfterFirst, StringComparison.Ordinal);
        Assert.Equal(noticeAfterFirst, environment.Error);
        Assert.Equal(TelemetryLevel.Anonymous, second.Level);
        Assert.NotNull(second.InstallId);
        Assert.Equal(4, second.InstallId!.Value.Version);
        Assert.Equal(second.InstallId, third.InstallId);
    }

    [Fact]
    public void NoFileIsWrittenWhenDoNotTrackIsSet()
    {
        using var environment = new FakeEnvironment();
        environment.Variables["DO_NOT_TRACK"] = "1";

        var decision = new ConsentResolver(AcmeOptions(ConsentPolicy.OptOut), environment).Resolve();

        Assert.Equal(TelemetryLevel.Off, decision.Level);
        Assert.Empty(environment.Files());
        Assert.Equal("", environment.Error);
    }

    [Theory]
    [InlineData(ConsentPolicy.OptIn, null)]
    [InlineData(ConsentPolicy.OptOut, "local")]
    [InlineData(ConsentPolicy.Prompt, null)]
    public void NoInstallIdIsCreatedBelowAnonymous(ConsentPolicy policy, string? environmentLevel)
    {
        using var environment = new FakeEnvironment { IsInputTerminal = false };
        environment.Variables["ACME_TELEMETRY"] = environmentLevel;

        var decision = new ConsentResolver(AcmeOptions(policy), environment).Resolve();

        Assert.True(decision.Level < TelemetryLevel.Anonymous);
        Assert.Null(decision.InstallId);
        Assert.False(File.Exists(environment.UserFile) && File.ReadAllText(environment.UserFile).Contains("install_id", StringComparison.Ordinal));
    }

    [Fact]
    public void ACorruptUserFileTurnsTheRunOffNamesTheFileAndIsNotOverwritten()
    {
        using var environment = new FakeEnvironment();
        const string Corrupt = "level = \"anonymous\ninstall_id = \"not closed\n";
        environment.WriteUserFile(Corrupt);
        environment.Variables["ACME_TELEMETRY"] = "anonymous";

        var decision = new ConsentResolver(AcmeOptions(ConsentPolicy.OptOut), environment).Resolve();
        var status = new ConsentResolver(AcmeOptions(ConsentPolicy.OptOut), environment).Inspect();

        Assert.Equal(TelemetryLevel.Off, decision.Level);
        Assert.Null(decision.InstallId);
        Assert.Contains(environment.UserFile, environment.Error, StringComparison.Ordinal);
        Assert.Contains("is not valid TOML", environment.Error, StringComparison.Ordinal);
        Assert.Equal(Corrupt, File.ReadAllText(environment.UserFile));
        Assert.Contains(status.Problems, p => p.Contains(environment.UserFile, StringComparison.Ordinal) && p.Contains("not valid TOML", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnreadableUserFileTurnsTheRunOffWithTheReason()
    {
        using var environment = new FakeEnvironment();
        // A directory where the file should be: reading fails on every OS and for root too.
        Directory.CreateDirectory(environment.UserFile);

        var decision = new ConsentResolver(AcmeOptions(ConsentPolicy.OptOut), environment).Resolve();

        Assert.Equal(TelemetryLevel.Off, decision.Level);
        Assert.Equal("user file", decision.DecidedBy);
        Assert.Contains("it is a directory", decision.Reason, StringComparison.Ordinal);
        Assert.True(Directory.Exists(environment.UserFile));
    }

    [Fact]
    public void AConfigDirectoryThatCannotBeCreatedKeepsEveryRunOffWithoutThrowing()
    {
        using var environment = new FakeEnvironment();
        // Tests run as root, where permissions do not stop writes; a regular file where the config
        // directory's parent should be makes every write fail (ENOTDIR), for root too.
        var blocker = Path.Combine(environment.HomeDirectory, "not-a-directory");
        File.WriteAllText(blocker, "");
        environment.Variables["XDG_CONFIG_HOME"] = Path.Combine(blocker, "config");
        var options = AcmeOptions(ConsentPolicy.OptOut);

        var first = new ConsentResolver(options, environment).Resolve();
        var second = new ConsentResolver(options, environment).Resolve();
        environment.Variables["ACME_TELEMETRY"] = "anonymous";
        var withVariable = new ConsentResolver(options, environment).Resolve();

        Assert.Equal(TelemetryLevel.Off, first.Level);
        Assert.Equal(TelemetryLevel.Off, second.Level);
        Assert.Contains("could not be recorded", second.Reason, StringComparison.Ordinal);
        Assert.Equal(TelemetryLevel.Off, withVariable.Level);
        Assert.Contains("no install id could be saved", withVariable.Reason, StringComparison.Ordinal);
        Assert.Contains(blocker, environment.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ConcurrentFirstRunsEndWithOneInstallId()
    {
        using var environment = new FakeEnvironment();
        environment.Variables["ACME_TELEMETRY"] = "anonymous";
        var options = AcmeOptions();
        using var start = new Barrier(8);

        var ids = Enumerable.Range(0, 8)
            .Select(_ => Task.Factory.StartNew(() =>
            {
                start.SignalAndWait();
                return new ConsentResolver(options, environment).Resolve().InstallId;
            }, TaskCreationOptions.LongRunning))
            .ToList()
            .Select(t => t.GetAwaiter().GetResult())
            .ToList();

        var id = Assert.Single(ids.Distinct());
        Assert.NotNull(id);
        Assert.Contains($"install_id = \"{id:D}\"", File.ReadAllText(environment.UserFile), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DO_NOT_TRACK", "1")]
    [InlineData("ACME_TELEMETRY", "local")]
    [InlineData("ACME_DISABLE_TELEMETRY", "yes")]
    public void LoweringConsentDeletesSpooledEventsUnsent(string variable, string value)
    {
        using var environment = new FakeEnvironment();
        var spool = Path.Combine(environment.StateDirectory, "spool");
        Directory.CreateDirectory(Path.Combine(spool, "batch-dir"));
        File.WriteAllText(Path.Combine(spool, "0001.json"), "{}");
        File.WriteAllText(Path.Combine(spool, "batch-dir", "0002.json"), "{}");
        environment.Variables[variable] = value;

        new ConsentResolver(AcmeOptions(), environment).Resolve();

        Assert.Empty(Directory.EnumerateFileSystemEntries(spool));
    }

    [Fact]
    public void AnAnonymousRunKeepsItsSpool()
    {
        using var environment = new FakeEnvironment();
        environment.WriteUserFile("level = \"anonymous\"\nnotice_version = 1\n");
        var spooled = Path.Combine(environment.StateDirectory, "spool", "0001.json");
        Directory.CreateDirectory(Path.GetDirectoryName(spooled)!);
        File.WriteAllText(spooled, "{}");

        new ConsentResolver(AcmeOptions(), environment).Resolve();

        Assert.True(File.Exists(spooled));
    }

    [Fact]
    public void AnOffChoiceInTheUserFileDeletesTheInstallIdAndUserId()
    {
        using var environment = new FakeEnvironment();
        environment.WriteUserFile("level = \"off\"\ninstall_id = \"0f8fad5b-d9cb-469f-a165-70867728950e\"\nuser_id = \"ada@example.com\"\nnotice_version = 1\n");

        var decision = new ConsentResolver(AcmeOptions(), environment).Resolve();

        Assert.Equal(TelemetryLevel.Off, decision.Level);
        var text = File.ReadAllText(environment.UserFile);
        Assert.DoesNotContain("install_id", text, StringComparison.Ordinal);
        Assert.DoesNotContain("ada@example.com", text, StringComparison.Ordinal);
        Assert.Contains("level = \"off\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TheProjectIdIsTheSha256OfTheProjectUuidAndTheProductNameNeverTheUuid()
    {
        using var environment = new FakeEnvironment();
        const string Uuid = "7d444840-9dc0-11d1-b245-5ffdce74fad2";
        environment.WriteProjectFile($"project_uuid = \"{Uuid}\"\n");
        environment.WriteUserFile("level = \"anonymous\"\nnotice_version = 1\n");

        var decision = new ConsentResolver(AcmeOptions(), environment).Resolve();

        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Uuid + ":acme")));
        Assert.Equal(expected, decision.ProjectId);
        Assert.DoesNotContain("7d444840", decision.ProjectId!, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSameProjectUuidGivesUnrelatedIdsToTwoProducts()
    {
        var project = new ProjectFileState("/p/.acme/telemetry.toml", false, Guid.Parse("7d444840-9dc0-11d1-b245-5ffdce74fad2"), null);

        Assert.NotEqual(project.ProjectId("acme"), project.ProjectId("other"));
    }

    [Fact]
    public void IdentifiedWithoutAUserIdSendsAnonymouslyAndSaysWhy()
    {
        using var environment = new FakeEnvironment();
        environment.WriteUserFile("level = \"identified\"\nnotice_version = 1\n");

        var decision = new ConsentResolver(AcmeOptions(), environment).Resolve();

        Assert.Equal(TelemetryLevel.Anonymous, decision.Level);
        Assert.Null(decision.UserId);
        Assert.Contains("identified needs an id", environment.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void InspectReportsWithoutPrintingAskingWritingOrDeleting()
    {
        using var environment = new FakeEnvironment();
        var spooled = Path.Combine(environment.StateDirectory, "spool", "0001.json");
        Directory.CreateDirectory(Path.GetDirectoryName(spooled)!);
        File.WriteAllText(spooled, "{}");
        environment.Type("3");

        var optOut = new ConsentResolver(AcmeOptions(ConsentPolicy.OptOut), environment).Inspect();
        var prompt = new ConsentResolver(AcmeOptions(ConsentPolicy.Prompt), environment).Inspect();

        Assert.Equal(TelemetryLevel.Off, optOut.Level);
        Assert.Contains("has not been shown yet", optOut.Reason, StringComparison.Ordinal);
        Assert.Equal(TelemetryLevel.Off, prompt.Level);
        Assert.Equal("", environment.Error);
        Assert.Equal(0, environment.LinesRead);
        Assert.Equal([Path.Combine(".local", "state", "acme", "telemetry", "spool", "0001.json")], environment.Files());
    }

    [Fact]
    public void EveryDecisionListsEverySourceStrongestFirst()
    {
        using var environment = new FakeEnvironment();

        var decision = new ConsentResolver(AcmeOptions(), environment).Inspect();

        Assert.Equal(
            ["DO_NOT_TRACK", "ACME_TELEMETRY", "ACME_DISABLE_TELEMETRY", "ACME_ENABLE_TELEMETRY", "project file", "user file", "default policy"],
            decision.Sources.Select(s => s.Name));
        Assert.Equal(CandorDirectories.UserFile(environment, "acme"), decision.UserFilePath);
    }

    [Fact]
    public void AnEnvironmentPrefixNamesTheToolVariable()
    {
        using var environment = new FakeEnvironment();
        environment.Variables["ACME_PIPELINES_TELEMETRY"] = "local";
        var options = new CandorOptions { ProductName = "acme", EnvironmentPrefix = "ACME_PIPELINES" };

        var decision = new ConsentResolver(options, environment).Resolve();

        Assert.Equal(TelemetryLevel.Local, decision.Level);
        Assert.Equal("ACME_PIPELINES_TELEMETRY", decision.DecidedBy);
    }

    [Fact]
    public void InvalidConsentOptionsAreListed()
    {
        var options = new CandorOptions { ProductName = "acme", NoticeVersion = 0, EnvironmentPrefix = "ACME-X", DefaultPolicy = (ConsentPolicy)9 };
        options.LegacyVariables.Add(new TelemetryVariableAlias("", TelemetryAliasPolarity.OffWhenSet));

        var errors = string.Join(" ", options.Validate());

        Assert.Contains("NoticeVersion", errors, StringComparison.Ordinal);
        Assert.Contains("EnvironmentPrefix", errors, StringComparison.Ordinal);
        Assert.Contains("DefaultPolicy", errors, StringComparison.Ordinal);
        Assert.Contains("LegacyVariables", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void AClientCreatedUnderDoNotTrackIsOffAndCarriesNoIdentity()
    {
        using var environment = new FakeEnvironment();
        environment.Variables["DO_NOT_TRACK"] = "1";

        using var client = CandorClient.CreateInEnvironment(AcmeOptions(), environment, TimeProvider.System);

        Assert.Equal(TelemetryLevel.Off, client.Level);
        Assert.Null(client.Context.InstallId);
        Assert.Null(client.Context.UserId);
    }
}
