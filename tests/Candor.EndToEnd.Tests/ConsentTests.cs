using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>The consent rules on the real <c>acme</c> binary, sending to the real collector on loopback.
/// Acme's default policy is opt-out: a notice once, then anonymous.</summary>
public sealed class ConsentTests
{
    private static readonly string AcmeAssembly = RepositoryPaths.ProgramAssembly("Acme.Cli", "acme.dll");

    private const string NoticeLine = "acme collects anonymous usage data";

    [Fact]
    public async Task WithDoNotTrackARunMakesNoConnectionAndWritesNoFile()
    {
        using var home = new TemporaryHome();
        // An endpoint this test owns: any connection attempt would wait in its backlog.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");

        var result = await RunAcmeAsync(endpoint, home.Path, home.Path, new() { ["DO_NOT_TRACK"] = "1" }, "run", "--pipeline", "nightly");
        var second = await RunAcmeAsync(endpoint, home.Path, home.Path, new() { ["DO_NOT_TRACK"] = "1" }, "run", "--pipeline", "nightly");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("Ran pipeline 'nightly'", result.StandardOutput, StringComparison.Ordinal);
        Assert.False(listener.Pending(), "acme connected to the endpoint although DO_NOT_TRACK=1.");
        Assert.Empty(Directory.EnumerateFileSystemEntries(home.Path, "*", SearchOption.AllDirectories));
        Assert.DoesNotContain(NoticeLine, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnderOptOutTheFirstRunPrintsTheNoticeAndSendsNothingAndTheSecondRunSends()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path);

        var first = await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "run", "--pipeline", "a");
        var afterFirst = await collector.ReadEventsAsync();
        var second = await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "run", "--pipeline", "b");
        var third = await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "run", "--pipeline", "c");

        Assert.Equal(0, first.ExitCode);
        Assert.Contains(NoticeLine, first.StandardError, StringComparison.Ordinal);
        Assert.Contains("Nothing was sent on this run", first.StandardError, StringComparison.Ordinal);
        Assert.Empty(afterFirst);
        Assert.DoesNotContain(NoticeLine, second.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(NoticeLine, third.StandardError, StringComparison.Ordinal);
        var events = await collector.ReadEventsAsync();
        Assert.Equal(2, events.Length);
        var installIds = events.Select(e => e.GetProperty("context").GetProperty("install_id").GetString()).Distinct().ToList();
        Assert.Single(installIds);
        Assert.Contains($"install_id = \"{installIds[0]}\"", await File.ReadAllTextAsync(UserFile(home.Path)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TelemetryDisableSendsNothingAndTheNextRunsSendNothing()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "run", "--pipeline", "notice");
        await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "run", "--pipeline", "sent");
        Assert.Single(await collector.ReadEventsAsync());

        var disable = await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "telemetry", "disable");
        var afterDisable = (await collector.ReadEventsAsync()).Length;
        var later = await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "run", "--pipeline", "later");
        await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "new", "demo");
        var status = await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "telemetry", "status");

        Assert.Equal(0, disable.ExitCode);
        Assert.Contains("Telemetry is off", disable.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(1, afterDisable);
        Assert.Equal(0, later.ExitCode);
        Assert.Single(await collector.ReadEventsAsync());
        Assert.DoesNotContain("install_id", await File.ReadAllTextAsync(UserFile(home.Path)), StringComparison.Ordinal);
        Assert.Contains("Telemetry: off", status.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Decided by: user file", status.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewWithTelemetryNoSendsNothingAndLaterRunsInsideTheProjectSendNothing()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        SawNotice(home.Path);

        var created = await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "new", "x", "--telemetry=no");
        var afterNew = await collector.ReadEventsAsync();
        var inside = await RunAcmeAsync(collector.BaseAddress, home.Combine("x"), home.Path, new(), "run", "--pipeline", "inside");
        Directory.CreateDirectory(home.Combine("x", "src", "deep"));
        var deeper = await RunAcmeAsync(collector.BaseAddress, home.Combine("x", "src", "deep"), home.Path, new(), "run", "--pipeline", "deeper");
        var afterInside = await collector.ReadEventsAsync();
        // The same user outside the project does send: the project file is what kept the runs above quiet.
        await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "run", "--pipeline", "outside");

        Assert.Equal(0, created.ExitCode);
        Assert.Contains("consent = false", await File.ReadAllTextAsync(home.Combine("x", ".acme", "telemetry.toml")), StringComparison.Ordinal);
        Assert.Empty(afterNew);
        Assert.Equal(0, inside.ExitCode);
        Assert.Equal(0, deeper.ExitCode);
        Assert.Empty(afterInside);
        Assert.Single(await collector.ReadEventsAsync());
    }

    [Fact]
    public async Task RunsInsideAProjectThatAllowsTelemetryCarryItsProjectId()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        SawNotice(home.Path);

        await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "new", "y");
        await RunAcmeAsync(collector.BaseAddress, home.Combine("y"), home.Path, new(), "run", "--pipeline", "inside");

        var projectFile = await File.ReadAllTextAsync(home.Combine("y", ".acme", "telemetry.toml"));
        var uuid = projectFile.Split('"')[1];
        var events = await collector.ReadEventsAsync();
        var inside = Assert.Single(events, e => e.GetProperty("properties").GetProperty("command").GetString() == "run");
        var projectId = inside.GetProperty("context").GetProperty("project_id").GetString();
        Assert.Matches("^[0-9a-f]{64}$", projectId);
        Assert.DoesNotContain(uuid, JsonSerializer.Serialize(events), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACorruptUserFileTurnsRunsOffIsLeftAsItIsAndStatusSaysWhy()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        const string Corrupt = "level = \"anonymous\"\ninstall_id = [oops\n";
        Directory.CreateDirectory(Path.GetDirectoryName(UserFile(home.Path))!);
        await File.WriteAllTextAsync(UserFile(home.Path), Corrupt);

        var run = await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "run", "--pipeline", "a");
        var status = await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "telemetry", "status");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains(UserFile(home.Path), run.StandardError, StringComparison.Ordinal);
        Assert.Contains("is not valid TOML", run.StandardError, StringComparison.Ordinal);
        Assert.Empty(await collector.ReadEventsAsync());
        Assert.Equal(Corrupt, await File.ReadAllTextAsync(UserFile(home.Path)));
        Assert.Contains("Telemetry: off", status.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"The user file '{UserFile(home.Path)}' is not used because it is not valid TOML", status.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConfigDirectoryThatCannotBeWrittenKeepsRunsOffAndWorking()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        // The suite runs as root, for whom chmod does not stop writes. A regular file where a parent
        // directory should be makes creating the config directory fail (ENOTDIR) for root too.
        var blocker = home.Combine("blocker");
        await File.WriteAllTextAsync(blocker, "");
        var unwritable = new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = Path.Combine(blocker, "config") };

        var first = await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, unwritable, "run", "--pipeline", "a");
        var second = await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, unwritable, "run", "--pipeline", "b");
        var enable = await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, unwritable, "telemetry", "enable");

        Assert.Equal(0, first.ExitCode);
        Assert.Equal(0, second.ExitCode);
        Assert.Contains(blocker, second.StandardError, StringComparison.Ordinal);
        // Unrecorded, the notice is shown again, and nothing is sent until it has been recorded.
        Assert.Contains(NoticeLine, second.StandardError, StringComparison.Ordinal);
        Assert.Equal(1, enable.ExitCode);
        Assert.Contains("Telemetry was not enabled", enable.StandardError, StringComparison.Ordinal);
        Assert.Empty(await collector.ReadEventsAsync());
    }

    [Fact]
    public async Task TwoConcurrentFirstRunsEndWithOneInstallId()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        SawNotice(home.Path);

        var runs = await Task.WhenAll(Enumerable.Range(0, 2).Select(i =>
            RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new(), "run", "--pipeline", $"p{i}")));

        Assert.All(runs, r => Assert.Equal(0, r.ExitCode));
        var events = await collector.ReadEventsAsync();
        Assert.Equal(2, events.Length);
        var installId = Assert.Single(events.Select(e => e.GetProperty("context").GetProperty("install_id").GetString()).Distinct());
        Assert.Contains($"install_id = \"{installId}\"", await File.ReadAllTextAsync(UserFile(home.Path)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnderThePromptPolicyARunWithoutATerminalAsksNothingAndSendsNothing()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path);

        // Standard input is a pipe with an answer waiting: it must not be read.
        var result = await RunAcmeAsync(collector.BaseAddress, home.Path, home.Path, new() { ["ACME_TELEMETRY_POLICY"] = "prompt" },
            standardInput: "3\n", arguments: ["run", "--pipeline", "a"]);

        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("Choice [1-4, q]", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(await collector.ReadEventsAsync());
        Assert.False(File.Exists(UserFile(home.Path)));
    }

    internal static string UserFile(string home) => Path.Combine(home, ".config", "acme", "telemetry.toml");

    private static void SawNotice(string home)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(UserFile(home))!);
        File.WriteAllText(UserFile(home), "notice_version = 1\n");
    }

    internal static Dictionary<string, string?> AcmeEnvironment(Uri endpoint, string home, Dictionary<string, string?> extra)
    {
        var environment = CiVariables.Cleared(TemporaryHome.VariablesFor(home));
        environment["ACME_TELEMETRY_ENDPOINT"] = endpoint.ToString();
        environment["ACME_TELEMETRY_WRITE_KEY"] = CollectorProcess.WriteKey;
        // A generous budget: these tests are about what is sent, not exit latency, and CI is slow.
        environment["ACME_FLUSH_MS"] = "5000";
        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }

        return environment;
    }

    private static Task<ProgramResult> RunAcmeAsync(Uri endpoint, string workingDirectory, string home, Dictionary<string, string?> extra, params string[] arguments) =>
        ProgramProcess.RunAsync(AcmeAssembly, arguments, workingDirectory, AcmeEnvironment(endpoint, home, extra));

    private static Task<ProgramResult> RunAcmeAsync(Uri endpoint, string workingDirectory, string home, Dictionary<string, string?> extra, string standardInput, string[] arguments) =>
        ProgramProcess.RunAsync(AcmeAssembly, arguments, workingDirectory, AcmeEnvironment(endpoint, home, extra), standardInput: standardInput);
}
