using System.CommandLine;
using Candor.TestSupport;

namespace Candor.CommandLine.Tests;

public sealed class TelemetryCommandTests
{
    private static CandorOptions AcmeOptions()
    {
        var options = new CandorOptions
        {
            ProductName = "acme",
            Endpoint = new Uri("https://telemetry.acme.example/"),
            DefaultPolicy = ConsentPolicy.OptOut,
            NoticeVersion = 2,
        };
        options.LegacyVariables.Add(new TelemetryVariableAlias("ACME_DISABLE_TELEMETRY", TelemetryAliasPolarity.OffWhenSet));
        return options;
    }

    private static (int ExitCode, string Output, string Error) Invoke(FakeEnvironment environment, string arguments, CandorOptions? options = null)
    {
        var root = new RootCommand("acme") { TelemetryCommand.Create(options ?? AcmeOptions(), environment) };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = root.Parse(arguments).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void StatusShowsTheLevelEverySourceWhichDecidedFilesIdsEndpointAndNoticeVersion()
    {
        using var environment = new FakeEnvironment();
        environment.WriteUserFile("level = \"anonymous\"\ninstall_id = \"0f8fad5b-d9cb-469f-a165-70867728950e\"\nnotice_version = 2\n");
        environment.Variables["ACME_TELEMETRY"] = "local";

        var (exitCode, output, _) = Invoke(environment, "telemetry status");

        Assert.Equal(0, exitCode);
        Assert.Contains("Telemetry: local", output, StringComparison.Ordinal);
        Assert.Contains("Decided by: ACME_TELEMETRY", output, StringComparison.Ordinal);
        Assert.Matches(@"\* ACME_TELEMETRY\s+'local'\s+local", output);
        Assert.Matches(@"  DO_NOT_TRACK\s+\(unset\)\s+no effect", output);
        Assert.Matches(@"  ACME_DISABLE_TELEMETRY\s+\(unset\)", output);
        Assert.Matches(@"  user file\s+.*telemetry\.toml\s+level = anonymous", output);
        Assert.Matches(@"  default policy\s+opt-out", output);
        Assert.Contains(environment.UserFile, output, StringComparison.Ordinal);
        Assert.Contains("transparency.jsonl", output, StringComparison.Ordinal);
        Assert.Contains("Install id:      0f8fad5b-d9cb-469f-a165-70867728950e", output, StringComparison.Ordinal);
        Assert.Contains("Endpoint:        https://telemetry.acme.example/", output, StringComparison.Ordinal);
        Assert.Contains("Notice version:  2 (seen: 2)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void StatusNamesACorruptUserFileAndWhyAndLeavesItAlone()
    {
        using var environment = new FakeEnvironment();
        environment.WriteUserFile("level = anonymous\n");

        var (exitCode, output, _) = Invoke(environment, "telemetry status");

        Assert.Equal(0, exitCode);
        Assert.Contains("Telemetry: off", output, StringComparison.Ordinal);
        Assert.Contains($"The user file '{environment.UserFile}' is not used because it is not valid TOML", output, StringComparison.Ordinal);
        Assert.Equal("level = anonymous\n", File.ReadAllText(environment.UserFile));
    }

    [Fact]
    public void StatusWritesNothing()
    {
        using var environment = new FakeEnvironment();

        Invoke(environment, "telemetry status");

        Assert.Empty(environment.Files());
    }

    [Fact]
    public void EnableSavesTheLevelAnInstallIdAndTheNoticeVersion()
    {
        using var environment = new FakeEnvironment();

        var (exitCode, output, _) = Invoke(environment, "telemetry enable");

        Assert.Equal(0, exitCode);
        Assert.Contains("Telemetry is now anonymous (install id ", output, StringComparison.Ordinal);
        var saved = File.ReadAllText(environment.UserFile);
        Assert.Contains("level = \"anonymous\"", saved, StringComparison.Ordinal);
        Assert.Matches("install_id = \"[0-9a-f-]{36}\"", saved);
        Assert.Contains("notice_version = 2", saved, StringComparison.Ordinal);
        Assert.Contains("Telemetry: anonymous", Invoke(environment, "telemetry status").Output, StringComparison.Ordinal);
    }

    [Fact]
    public void EnableRecordsTheInitialVersionWithTheInstallIdStatusListsItAndDisableDeletesIt()
    {
        using var environment = new FakeEnvironment();
        var first = AcmeOptions();
        first.ProductVersion = "3.0.0";
        var later = AcmeOptions();
        later.ProductVersion = "3.1.0";

        Invoke(environment, "telemetry enable", first);
        Invoke(environment, "telemetry enable --level identified --user-id ada@example.com", later);
        var enabled = File.ReadAllText(environment.UserFile);
        var status = Invoke(environment, "telemetry status", later).Output;
        Invoke(environment, "telemetry disable", later);

        Assert.Contains("initial_version = \"3.0.0\"", enabled, StringComparison.Ordinal);
        Assert.Contains("Initial version: 3.0.0", status, StringComparison.Ordinal);
        Assert.DoesNotContain("initial_version", File.ReadAllText(environment.UserFile), StringComparison.Ordinal);
    }

    [Fact]
    public void EnableIdentifiedSavesTheUserId()
    {
        using var environment = new FakeEnvironment();

        var (exitCode, _, _) = Invoke(environment, "telemetry enable --level identified --user-id ada@example.com");

        Assert.Equal(0, exitCode);
        Assert.Contains("user_id = \"ada@example.com\"", File.ReadAllText(environment.UserFile), StringComparison.Ordinal);
        Assert.Contains("User id:         ada@example.com", Invoke(environment, "telemetry status").Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("telemetry enable --level identified", "needs --user-id")]
    [InlineData("telemetry enable --user-id not-an-id", "neither an email address nor a UUID")]
    [InlineData("telemetry enable --level local --user-id ada@example.com", "only used with --level identified")]
    public void EnableRefusesAnIdentityItCannotUse(string arguments, string message)
    {
        using var environment = new FakeEnvironment();

        var (exitCode, _, error) = Invoke(environment, arguments);

        Assert.Equal(1, exitCode);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.False(File.Exists(environment.UserFile));
    }

    [Fact]
    public void EnableSaysWhenAStrongerSourceKeepsTelemetryOff()
    {
        using var environment = new FakeEnvironment();
        environment.Variables["DO_NOT_TRACK"] = "1";

        var (_, output, _) = Invoke(environment, "telemetry enable");

        Assert.Contains("Note: DO_NOT_TRACK keeps telemetry off", output, StringComparison.Ordinal);
    }

    [Fact]
    public void DisableSavesOffAndDeletesTheInstallIdUserIdAndSpool()
    {
        using var environment = new FakeEnvironment();
        Invoke(environment, "telemetry enable --level identified --user-id ada@example.com");
        var spooled = Path.Combine(environment.StateDirectory, "spool", "0001.json");
        Directory.CreateDirectory(Path.GetDirectoryName(spooled)!);
        File.WriteAllText(spooled, "{}");

        var (exitCode, output, _) = Invoke(environment, "telemetry disable");

        Assert.Equal(0, exitCode);
        Assert.Contains("Telemetry is off", output, StringComparison.Ordinal);
        var saved = File.ReadAllText(environment.UserFile);
        Assert.Contains("level = \"off\"", saved, StringComparison.Ordinal);
        Assert.DoesNotContain("install_id", saved, StringComparison.Ordinal);
        Assert.DoesNotContain("ada@example.com", saved, StringComparison.Ordinal);
        Assert.False(File.Exists(spooled));
    }

    [Fact]
    public void DisableFailsClearlyWhenTheChoiceCannotBeSaved()
    {
        using var environment = new FakeEnvironment();
        var blocker = Path.Combine(environment.HomeDirectory, "a-file");
        File.WriteAllText(blocker, "");
        environment.Variables["XDG_CONFIG_HOME"] = blocker;

        var (exitCode, _, error) = Invoke(environment, "telemetry disable");

        Assert.Equal(1, exitCode);
        Assert.Contains(blocker, error, StringComparison.Ordinal);
        Assert.Contains("ACME_TELEMETRY=off", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ForgetDeletesTheIdsAndLocalTelemetryFilesAndKeepsTheChoice()
    {
        using var environment = new FakeEnvironment();
        Invoke(environment, "telemetry enable");
        Directory.CreateDirectory(Path.Combine(environment.StateDirectory, "spool"));
        File.WriteAllText(Path.Combine(environment.StateDirectory, "spool", "0001.json"), "{}");
        File.WriteAllText(Path.Combine(environment.StateDirectory, "transparency.jsonl"), "{\"name\":\"command\"}\n");

        // No collector: only the local deletion (asking the collector is in TelemetryRightsTests).
        var withoutCollector = AcmeOptions();
        withoutCollector.Endpoint = null;
        var (exitCode, output, _) = Invoke(environment, "telemetry forget", withoutCollector);

        Assert.Equal(0, exitCode);
        Assert.Contains("nothing can be asked of one", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(environment.StateDirectory));
        var saved = File.ReadAllText(environment.UserFile);
        Assert.DoesNotContain("install_id", saved, StringComparison.Ordinal);
        Assert.Contains("level = \"anonymous\"", saved, StringComparison.Ordinal);
    }

    [Fact]
    public void ForgetCreatesNoUserFile()
    {
        using var environment = new FakeEnvironment();

        Invoke(environment, "telemetry forget");

        Assert.Empty(environment.Files());
    }

    [Fact]
    public void ShowPrintsEveryRecordedEvent()
    {
        using var environment = new FakeEnvironment();
        Directory.CreateDirectory(environment.StateDirectory);
        File.WriteAllText(Path.Combine(environment.StateDirectory, "transparency.jsonl"), "{\"name\":\"command\",\"n\":1}\n{\"name\":\"command\",\"n\":2}\n");

        var (exitCode, output, _) = Invoke(environment, "telemetry show");

        Assert.Equal(0, exitCode);
        Assert.Equal(["{\"name\":\"command\",\"n\":1}", "{\"name\":\"command\",\"n\":2}"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    [Fact]
    public void ShowSaysClearlyWhenNothingWasRecorded()
    {
        using var environment = new FakeEnvironment();

        var (exitCode, output, _) = Invoke(environment, "telemetry show");

        Assert.Equal(0, exitCode);
        Assert.Contains("No events recorded:", output, StringComparison.Ordinal);
        Assert.Contains("transparency.jsonl does not exist", output, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidOptionsAreRefusedWhenTheCommandIsCreated()
    {
        var error = Assert.Throws<ArgumentException>(() => TelemetryCommand.Create(new CandorOptions { ProductName = "" }));

        Assert.Contains("ProductName", error.Message, StringComparison.Ordinal);
    }
}
