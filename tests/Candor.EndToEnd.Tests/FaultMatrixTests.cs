using System.Text.Json;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// The real <c>acme</c> binary against collectors that misbehave in every way we know. Whatever the
/// collector does, the host must not notice: no exception, its own exit code, its own output, and an
/// exit within the flush budget plus a loose margin (process start-up on a busy CI machine dominates;
/// the precise figures come from <c>bench/hyperfine-acme.sh</c>). Spooling what could not be sent is
/// best effort within the budget (the process exits regardless), so it is asserted where the budget is
/// generous rather than in the matrix.
/// </summary>
public sealed class FaultMatrixTests
{
    private static readonly string AcmeAssembly = RepositoryPaths.ProgramAssembly("Acme.Cli", "acme.dll");

    /// <summary>A hang would be the full send timeout (10 s) or the slow server's 30 s; a working budget is 200 ms.</summary>
    private static readonly TimeSpan LooseBound = TimeSpan.FromSeconds(5);

    public static TheoryData<string, string[], int> Matrix()
    {
        var data = new TheoryData<string, string[], int>();
        foreach (var fault in Enum.GetNames<Fault>())
        {
            data.Add(fault, ["run", "--pipeline", "nightly"], 0);
            data.Add(fault, ["run"], 1); // --pipeline is required: the command's own failure
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task AMisbehavingCollectorChangesNothingTheUserCanFeel(string fault, string[] arguments, int expectedExitCode)
    {
        await using var server = new FaultyServer(Enum.Parse<Fault>(fault));
        using var home = new TemporaryDirectory();

        var result = await RunAcmeAsync(home.Path, server.BaseAddress, arguments);

        Assert.Equal(expectedExitCode, result.ExitCode);
        if (expectedExitCode == 0)
        {
            Assert.Contains("Ran pipeline 'nightly'", result.StandardOutput, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("Exception", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.StandardOutput, StringComparison.Ordinal);
        Assert.True(result.Elapsed < LooseBound, $"acme took {result.Elapsed} against {fault}.");
    }

    [Theory]
    [InlineData("ConnectionRefused")]
    [InlineData("AcceptAndNeverAnswer")]
    [InlineData("TooManyRequests")]
    public async Task WhatCouldNotBeSentIsSpooledWithTheCommandsOwnExitCode(string fault)
    {
        await using var server = new FaultyServer(Enum.Parse<Fault>(fault));
        using var home = new TemporaryDirectory();

        var result = await RunAcmeAsync(home.Path, server.BaseAddress, ["run"], flushMilliseconds: 1000);

        Assert.Equal(1, result.ExitCode);
        var spooled = Assert.Single(SpoolFiles(home.Path));
        using var batch = JsonDocument.Parse(File.ReadAllText(spooled));
        var command = Assert.Single(batch.RootElement.GetProperty("events").EnumerateArray());
        Assert.Equal(1, command.GetProperty("properties").GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task WhatWasSpooledWhileTheCollectorWasDownIsDeliveredByTheNextRun()
    {
        using var home = new TemporaryDirectory();
        using var data = new TemporaryDirectory();
        await using (var down = new FaultyServer(Fault.ConnectionRefused))
        {
            Assert.Equal(0, (await RunAcmeAsync(home.Path, down.BaseAddress, ["run", "--pipeline", "offline"], flushMilliseconds: 1000)).ExitCode);
        }

        Assert.Single(SpoolFiles(home.Path));
        await using var collector = await CollectorProcess.StartAsync(data.Path);

        // A generous budget: this run must also drain the spool; CI machines are slow.
        var online = await RunAcmeAsync(home.Path, collector.BaseAddress, ["new", "demo"], flushMilliseconds: 5000);

        Assert.Equal(0, online.ExitCode);
        var stored = await collector.ReadEventsAsync();
        Assert.Equal(["new", "run"], stored.Select(e => e.GetProperty("properties").GetProperty("command").GetString()).Order());
        Assert.Equal(2, stored.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
        Assert.Empty(SpoolFiles(home.Path));
    }

    [Fact]
    public async Task UnderOffAcmeConnectsNowhereAndWritesNothing()
    {
        await using var server = new FaultyServer(Fault.ServerError);
        using var home = new TemporaryDirectory();

        var result = await RunAcmeAsync(home.Path, server.BaseAddress, ["run", "--pipeline", "nightly"], telemetry: "off");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(0, server.Connections);
        Assert.Empty(Directory.EnumerateFiles(home.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task InDebugModeAcmePrintsTheEventToStandardErrorAndSendsNothing()
    {
        await using var server = new FaultyServer(Fault.ServerError);
        using var home = new TemporaryDirectory();

        var result = await RunAcmeAsync(home.Path, server.BaseAddress, ["run", "--pipeline", "nightly"],
            extra: new Dictionary<string, string?> { ["ACME_TELEMETRY_DEBUG"] = "1" });

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("\"name\":\"command\"", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("nightly", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(0, server.Connections);
        Assert.Empty(SpoolFiles(home.Path));
    }

    private static string[] SpoolFiles(string home)
    {
        var spool = Path.Combine(home, ".local", "state", "acme", "telemetry", "spool");
        return Directory.Exists(spool) ? Directory.GetFiles(spool, "*.batch.json") : [];
    }

    private static Task<ProgramResult> RunAcmeAsync(string home, Uri endpoint, string[] arguments, int flushMilliseconds = 200,
        string telemetry = "anonymous", Dictionary<string, string?>? extra = null)
    {
        var environment = new Dictionary<string, string?>
        {
            ["HOME"] = home,
            ["XDG_CONFIG_HOME"] = Path.Combine(home, ".config"),
            ["XDG_STATE_HOME"] = Path.Combine(home, ".local", "state"),
            ["ACME_TELEMETRY"] = telemetry,
            ["ACME_TELEMETRY_ENDPOINT"] = endpoint.ToString(),
            ["ACME_TELEMETRY_WRITE_KEY"] = CollectorProcess.WriteKey,
            ["ACME_FLUSH_MS"] = flushMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // The matrix is about the collector, not CI detection: the same context everywhere.
            ["CI"] = null,
            ["GITHUB_ACTIONS"] = null,
        };
        foreach (var (key, value) in extra ?? [])
        {
            environment[key] = value;
        }

        return ProgramProcess.RunAsync(AcmeAssembly, arguments, home, environment, timeout: TimeSpan.FromSeconds(60));
    }
}
