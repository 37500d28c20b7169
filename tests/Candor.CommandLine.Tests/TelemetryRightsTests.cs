using System.CommandLine;
using Candor.Catalog;
using Candor.Protocol;
using Candor.TestSupport;

namespace Candor.CommandLine.Tests;

/// <summary>The subcommands that ask the collector for the user's data rights (forget, show --server), and
/// what they tell the user (status, show --schema, the notice), against a hand-written stand-in.</summary>
public sealed class TelemetryRightsTests
{
    private static CandorOptions Options(Uri? endpoint, string commandDescription = "One acme command ran.") => new()
    {
        ProductName = "acme",
        Endpoint = endpoint,
        WriteKey = "wk_acme",
        DefaultPolicy = ConsentPolicy.OptOut,
        Catalog = new EventCatalog()
            .Add(new EventDefinition("command", commandDescription)
                .String("command", "The command path; never its arguments.", maxLength: 100, required: true)
                .Integer("duration_ms", "How long it took, in milliseconds.", minimum: 0)),
    };

    private static (int ExitCode, string Output, string Error) Invoke(FakeEnvironment environment, string arguments, CandorOptions options)
    {
        var root = new RootCommand("acme") { TelemetryCommand.Create(options, environment) };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = root.Parse(arguments).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    private static Guid Enable(FakeEnvironment environment, CandorOptions options)
    {
        Assert.Equal(0, Invoke(environment, "telemetry enable", options).ExitCode);
        var id = System.Text.RegularExpressions.Regex.Match(File.ReadAllText(environment.UserFile), "install_id = \"([0-9a-f-]{36})\"").Groups[1].Value;
        return Guid.Parse(id);
    }

    private static string PendingDirectory(FakeEnvironment environment) => Path.Combine(environment.StateDirectory, "pending-forget");

    [Fact]
    public async Task ForgetAsksTheCollectorToDeleteTheInstallAndSaysWhatItDeleted()
    {
        await using var standIn = await RightsStandIn.StartAsync();
        using var environment = new FakeEnvironment();
        var options = Options(standIn.BaseAddress);
        var installId = Enable(environment, options);
        Directory.CreateDirectory(environment.SpoolDirectory);
        File.WriteAllText(environment.TransparencyLogPath, "{\"name\":\"command\"}\n");

        var (exitCode, output, error) = Invoke(environment, "telemetry forget", options);

        Assert.Equal(0, exitCode);
        Assert.Equal("", error);
        var call = Assert.Single(standIn.Calls);
        Assert.Equal((ProtocolConstants.ForgetPath, "wk_acme", "acme", installId.ToString("D")), (call.Path, call.WriteKey, call.Product, call.InstallId));
        Assert.Contains($"The collector deleted 3 events and 1 quarantined events of install {installId:D}", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(environment.StateDirectory), string.Join(", ", environment.Files()));
        Assert.DoesNotContain(installId.ToString("D"), File.ReadAllText(environment.UserFile), StringComparison.Ordinal);
        Assert.DoesNotContain("Deletion on the collector", Invoke(environment, "telemetry status", options).Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(404, ErrorCodes.UnknownInstall, "The collector held nothing for install")]
    [InlineData(200, "already", "The collector had already deleted what it held for install")]
    public async Task AnInstallTheCollectorNeverHeldOrAlreadyForgotIsConfirmedToo(int status, string code, string message)
    {
        await using var standIn = await RightsStandIn.StartAsync();
        standIn.Respond = _ => status == 200
            ? new RightsReply(200, """{"status":"already_forgotten","events":0,"quarantine":0}""")
            : RightsReply.Error(status, code);
        using var environment = new FakeEnvironment();
        var options = Options(standIn.BaseAddress);
        Enable(environment, options);

        var (exitCode, output, _) = Invoke(environment, "telemetry forget", options);

        Assert.Equal(0, exitCode);
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(PendingDirectory(environment)));
    }

    [Fact]
    public async Task ForgetWithTheCollectorDownKeepsTheRequestStatusShowsItAndALaterRunSendsItAndClearsIt()
    {
        using var environment = new FakeEnvironment();
        await using var down = new FaultyServer(Fault.ConnectionRefused);
        var installId = Enable(environment, Options(down.BaseAddress));

        var (exitCode, output, _) = Invoke(environment, "telemetry forget", Options(down.BaseAddress));
        var status = Invoke(environment, "telemetry status", Options(down.BaseAddress)).Output;

        Assert.Equal(0, exitCode);
        Assert.Contains($"could not be asked to delete what it holds for install {installId:D} now", output, StringComparison.Ordinal);
        Assert.Contains("sent again by later runs of acme", output, StringComparison.Ordinal);
        Assert.Equal([installId.ToString("D") + ".toml"], Directory.GetFiles(PendingDirectory(environment)).Select(Path.GetFileName));
        Assert.DoesNotContain("install_id", File.ReadAllText(environment.UserFile), StringComparison.Ordinal);
        Assert.False(File.Exists(environment.TransparencyLogPath));
        Assert.Matches(@"Deletion on the collector: requested \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, not yet confirmed \(install id " + installId.ToString("D") + @"\)", status);

        // The collector is back: the next run of the tool sends the request in the background and forgets the id.
        await using var standIn = await RightsStandIn.StartAsync();
        var later = Options(standIn.BaseAddress);
        later.FlushBudget = TimeSpan.FromSeconds(5); // a loaded test machine must not cut the exit short
        using (var client = CandorClient.CreateInEnvironment(later, environment, TimeProvider.System))
        {
            client.WarmUp();
            client.Track("command", new EventProperty("command", "run"));
        }

        var call = Assert.Single(standIn.Calls);
        Assert.Equal(("wk_acme", "acme", installId.ToString("D")), (call.WriteKey, call.Product, call.InstallId));
        Assert.False(Directory.Exists(PendingDirectory(environment)));
        Assert.DoesNotContain("Deletion on the collector", Invoke(environment, "telemetry status", later).Output, StringComparison.Ordinal);
        Assert.Equal(1, standIn.Batches);
    }

    [Fact]
    public async Task ARefusalIsKeptAndStatusShowsIt()
    {
        await using var standIn = await RightsStandIn.StartAsync();
        standIn.Respond = _ => RightsReply.Error(401, ErrorCodes.InvalidWriteKey, "The write key is not valid.");
        using var environment = new FakeEnvironment();
        var options = Options(standIn.BaseAddress);
        var installId = Enable(environment, options);

        var (exitCode, _, error) = Invoke(environment, "telemetry forget", options);
        var status = Invoke(environment, "telemetry status", options).Output;

        Assert.Equal(1, exitCode);
        Assert.Contains($"The collector refused to delete what it holds for install {installId:D}: 401 invalid_write_key: The write key is not valid.", error, StringComparison.Ordinal);
        Assert.Contains("not yet confirmed (install id " + installId.ToString("D") + ")", status, StringComparison.Ordinal);
        Assert.Matches(@"  last refused \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: 401 invalid_write_key: The write key is not valid\.", status);
    }

    [Fact]
    public async Task ALaterForgetAsksAgainForAnEarlierDeletionStillPending()
    {
        using var environment = new FakeEnvironment();
        await using var down = new FaultyServer(Fault.ServerError);
        var first = Enable(environment, Options(down.BaseAddress));
        Invoke(environment, "telemetry forget", Options(down.BaseAddress));
        await using var standIn = await RightsStandIn.StartAsync();
        var second = Enable(environment, Options(standIn.BaseAddress));

        var (exitCode, output, _) = Invoke(environment, "telemetry forget", Options(standIn.BaseAddress));

        Assert.Equal(0, exitCode);
        Assert.Equal([first.ToString("D"), second.ToString("D")], standIn.Calls.Select(c => c.InstallId));
        Assert.Contains($"of install {first:D}", output, StringComparison.Ordinal);
        Assert.Contains($"of install {second:D}", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(environment.StateDirectory));
    }

    [Fact]
    public void ForgetWithoutACollectorSaysNothingCanBeAskedOfOne()
    {
        using var environment = new FakeEnvironment();
        Enable(environment, Options(null));

        var (exitCode, output, _) = Invoke(environment, "telemetry forget", Options(null));

        Assert.Equal(0, exitCode);
        Assert.Contains("No collector is configured", output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(environment.StateDirectory));
    }

    [Fact]
    public async Task StatusPrintsTheCollectorsPrivacyPage()
    {
        using var environment = new FakeEnvironment();

        var output = Invoke(environment, "telemetry status", Options(new Uri("https://telemetry.acme.example/ingest/"))).Output;

        Assert.Contains("Privacy page:    https://telemetry.acme.example/privacy/acme", output, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task ShowServerPrintsWhatTheCollectorHoldsForThisInstallIndented()
    {
        await using var standIn = await RightsStandIn.StartAsync();
        using var environment = new FakeEnvironment();
        var options = Options(standIn.BaseAddress);
        var installId = Enable(environment, options);

        var (exitCode, output, error) = Invoke(environment, "telemetry show --server", options);

        Assert.Equal(0, exitCode);
        Assert.Equal("", error);
        var call = Assert.Single(standIn.Calls);
        Assert.Equal((ProtocolConstants.AccessPath, "wk_acme", "acme", installId.ToString("D")), (call.Path, call.WriteKey, call.Product, call.InstallId));
        Assert.StartsWith("{\n  \"product\": \"acme\",\n  \"install_id\": \"" + installId.ToString("D") + "\",\n  \"events\": [", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\"command\": \"run\"", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(404, ErrorCodes.UnknownInstall, "The collector holds nothing for install")]
    [InlineData(410, ErrorCodes.InstallForgotten, "The collector has forgotten install")]
    [InlineData(429, ErrorCodes.RateLimited, "try again in 12 s")]
    [InlineData(401, ErrorCodes.InvalidWriteKey, "write key is not accepted")]
    [InlineData(500, ErrorCodes.InternalError, "The collector could not answer: 500 internal_error")]
    public async Task ShowServerSaysClearlyWhyItHasNothingToShow(int status, string code, string message)
    {
        await using var standIn = await RightsStandIn.StartAsync();
        standIn.Respond = _ => RightsReply.Error(status, code) with { RetryAfterSeconds = status == 429 ? 12 : null };
        using var environment = new FakeEnvironment();
        var options = Options(standIn.BaseAddress);
        Enable(environment, options);

        var (exitCode, output, error) = Invoke(environment, "telemetry show --server", options);

        Assert.Equal(1, exitCode);
        Assert.Equal("", output);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShowServerSaysWhenTheCollectorCannotBeReachedOrThereIsNothingToAskFor()
    {
        await using var down = new FaultyServer(Fault.ConnectionRefused);
        using var environment = new FakeEnvironment();

        var noId = Invoke(environment, "telemetry show --server", Options(down.BaseAddress));
        Enable(environment, Options(down.BaseAddress));
        var unreachable = Invoke(environment, "telemetry show --server", Options(down.BaseAddress));
        var noCollector = Invoke(environment, "telemetry show --server", Options(null));

        Assert.Equal(1, noId.ExitCode);
        Assert.Contains("There is no install id on this machine", noId.Error, StringComparison.Ordinal);
        Assert.Equal(1, unreachable.ExitCode);
        Assert.Contains($"The collector at {down.BaseAddress} could not be reached", unreachable.Error, StringComparison.Ordinal);
        Assert.Equal(1, noCollector.ExitCode);
        Assert.Contains("No collector is configured", noCollector.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void ShowSchemaPrintsEveryEventAndPropertyFromTheCatalogAndSendsNothing()
    {
        using var environment = new FakeEnvironment();

        var (exitCode, output, _) = Invoke(environment, "telemetry show --schema", Options(new Uri("http://127.0.0.1:9/")));

        Assert.Equal(0, exitCode);
        Assert.Contains("command (version 1-0-0)\n  One acme command ran.\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("  - command: string, required, 100 characters at most\n      The command path; never its arguments.\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("  - duration_ms: integer, optional, minimum 0\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Empty(environment.Files());
    }

    [Fact]
    public void ShowRefusesServerAndSchemaTogether()
    {
        using var environment = new FakeEnvironment();

        var (exitCode, _, error) = Invoke(environment, "telemetry show --server --schema", Options(null));

        Assert.Equal(1, exitCode);
        Assert.Contains("Choose one of --server and --schema", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("One acme command ran.")]
    [InlineData("Counts how often each acme command runs and how it ends.")]
    public void TheNoticeAndShowSchemaBothTellTheDescriptionTheCatalogDeclares(string description)
    {
        using var environment = new FakeEnvironment();
        var options = Options(new Uri("https://telemetry.acme.example/"), description);

        var notice = Invoke(environment, "telemetry enable", options).Output;
        var schema = Invoke(environment, "telemetry show --schema", options).Output;

        Assert.Contains("  command: " + description, notice, StringComparison.Ordinal);
        Assert.Contains("`acme telemetry show --schema`", notice, StringComparison.Ordinal);
        Assert.Contains("https://telemetry.acme.example/privacy/acme", notice, StringComparison.Ordinal);
        Assert.Contains("command (version 1-0-0)" + Environment.NewLine + "  " + description, schema.ReplaceLineEndings(), StringComparison.Ordinal);
    }
}
