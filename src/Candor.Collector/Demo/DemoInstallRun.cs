using System.Net;
using System.Net.Sockets;
using Candor.Protocol;

namespace Candor.Collector.Demo;

/// <summary>
/// Replays one simulated install's history through the real client SDK: one client per working day
/// (a process of the tool, in its own home directory, so consent, the first-run notice and the
/// install id work as on a real machine), commands with masked arguments, operations, errors,
/// pipeline counts and, for the <c>acme agent</c>, heartbeats.
/// </summary>
internal sealed class DemoInstallRun(DemoInstall install, DemoReceiver receiver, string homeRoot, DateTimeOffset now, int seed)
{
    private sealed record DemoCommand(string Path, string[] Tokens, int Weight, double MedianMs, double FailureRate, bool RunsPipeline);

    private static readonly DemoCommand[] Commands =
    [
        new("run", ["run", "--pipeline", "nightly", "--path", "/home/dana/etl/orders.yaml"], 40, 4200, 0.06, true),
        new("build", ["build", "--target", "release"], 18, 9000, 0.08, true),
        new("test", ["test", "--filter", "orders_daily"], 14, 15000, 0.10, false),
        new("deploy", ["deploy", "--env", "prod", "--token", "ghp_0123456789abcdefghijklmnopqrstuvwxyz"], 7, 30000, 0.14, false),
        new("new", ["new", "--template", "etl", "my-project"], 5, 800, 0.03, false),
        new("plugin install", ["plugin", "install", "acme-postgres"], 4, 2500, 0.05, false),
        new("telemetry status", ["telemetry", "status"], 2, 60, 0, false),
    ];

    private static readonly string[] KnownNames =
        ["run", "build", "test", "deploy", "new", "plugin", "install", "telemetry", "status",
         "--pipeline", "--path", "--target", "--filter", "--env", "--token", "--template"];

    private static readonly string[] SourceTypes = ["postgres", "duckdb", "csv", "parquet"];

    private readonly Random _random = new(HashCode.Combine(seed, install.Number));

    private string? _initialVersion;

    public async Task RunAsync()
    {
        var environment = new DemoEnvironment(Path.Combine(homeRoot, install.Number.ToString(System.Globalization.CultureInfo.InvariantCulture)), Variables());
        for (var day = install.FirstRun; day <= install.LastRun; day = day.AddDays(1))
        {
            if (day != install.FirstRun && _random.NextDouble() > (install.IsAgent ? 1 : install.Activity))
            {
                continue;
            }

            var start = day == install.FirstRun
                ? day
                : new DateTimeOffset(day.UtcDateTime.Date, TimeSpan.Zero)
                    + TimeSpan.FromHours(install.CiVariable is null ? 8 + _random.Next(11) : _random.Next(24)) + TimeSpan.FromMinutes(_random.Next(60));
            if (start > now.AddMinutes(-30))
            {
                continue;
            }

            await RunDayAsync(environment, start);
        }

        if (install.IsAgent && install.LastRun >= now)
        {
            // Still running: a heartbeat a few minutes ago, so the agent shows as live.
            await RunDayAsync(environment, now.AddMinutes(-1 - _random.Next(4)), liveHeartbeatOnly: true);
        }
    }

    private Dictionary<string, string> Variables()
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        if (install.CiVariable is { } ci)
        {
            variables[ci] = ci == "JENKINS_URL" ? "https://jenkins.example.com/" : "true";
        }

        if (install.OptedOut)
        {
            variables["DO_NOT_TRACK"] = "1";
        }

        return variables;
    }

    private async Task RunDayAsync(DemoEnvironment environment, DateTimeOffset start, bool liveHeartbeatOnly = false)
    {
        var clock = new DemoClock(start);
        var version = install.VersionAt(start, now);
        var preview = version.Contains('-', StringComparison.Ordinal);
        var options = new CandorOptions
        {
            ProductName = DemoCatalog.Product,
            ProductVersion = version,
            Catalog = preview ? DemoCatalog.Preview : DemoCatalog.Released,
            Endpoint = receiver.Endpoint,
            WriteKey = receiver.WriteKey,
            DefaultPolicy = ConsentPolicy.OptOut,
            // Generous: the receiver commits each batch before it answers, and a flush cut short loses the day.
            FlushBudget = TimeSpan.FromSeconds(30),
            TransparencyLogSize = 0,
            SpoolMaxFiles = 0,
        };
        await using var client = CandorClient.CreateInEnvironment(options, environment, clock);
        Describe(client, version);
        if (liveHeartbeatOnly)
        {
            client.Track(EventConventions.HeartbeatEvent, new EventProperty("uptime_s", (long)(now - install.FirstRun).TotalSeconds));
        }
        else if (install.IsAgent)
        {
            // The agent's day: a heartbeat every six hours (a real one beats more often; six keeps the demo small).
            for (var beat = 0; beat < 4 && clock.Now < now.AddMinutes(-20); beat++)
            {
                client.Track(EventConventions.HeartbeatEvent, new EventProperty("uptime_s", (long)(clock.Now - install.FirstRun).TotalSeconds));
                clock.Advance(TimeSpan.FromHours(6));
            }

            clock.Now = clock.Now > now ? now : clock.Now;
        }
        else
        {
            var commands = install.CiVariable is null ? 1 + _random.Next(4) : 3 + _random.Next(6);
            for (var i = 0; i < commands; i++)
            {
                RunCommand(client, clock, version, preview);
            }
        }
    }

    /// <summary>What the SDK would have read from the simulated machine; this one process runs them all.
    /// The initial version is the version of the install's first run.</summary>
    private void Describe(CandorClient client, string version)
    {
        var context = client.Context;
        context.OsFamily = install.OsFamily;
        context.OsVersion = install.OsVersion;
        context.KernelRelease = install.KernelRelease;
        context.Architecture = install.Architecture;
        context.RuntimeVersion = install.Runtime;
        context.InitialVersion = _initialVersion ??= version;
        if (context.InstallId is { } id)
        {
            receiver.Locate(id, install.Network, install.Address);
        }
    }

    private void RunCommand(CandorClient client, DemoClock clock, string version, bool preview)
    {
        var command = DemoPopulation.Pick(_random, Commands, c => c.Weight);
        clock.Advance(TimeSpan.FromMinutes(1 + _random.Next(40)));
        // Durations are log-normal around the command's median; 1.0.0 had a bug that 1.1.0 fixed.
        var duration = TimeSpan.FromMilliseconds(command.MedianMs * Math.Exp(Gaussian() * 0.6));
        var failureRate = command.FailureRate * (install.CiVariable is null ? 1 : 1.5) * (version == "1.0.0" ? 2.5 : 1);
        var failure = _random.NextDouble() < failureRate ? Failures[_random.Next(Failures.Length)] : default;
        if (command.RunsPipeline)
        {
            var load = TimeSpan.FromMilliseconds(duration.TotalMilliseconds * (0.2 + _random.NextDouble() * 0.5));
            clock.Advance(load);
            var loadFailed = failure.Exception is not null && _random.NextDouble() < 0.6;
            client.Track(EventConventions.OperationEvent,
                new EventProperty(EventConventions.OperationProperty, "load_source"),
                new EventProperty(EventConventions.DurationMs, (long)load.TotalMilliseconds),
                new EventProperty(EventConventions.Outcome, loadFailed ? EventConventions.OutcomeFailure : EventConventions.OutcomeSuccess),
                new EventProperty(EventConventions.ErrorCode, loadFailed ? failure.Code ?? CandorClient.ErrorCodeOf(failure.Exception!) : null));
            if (failure.Exception is null)
            {
                var datasets = 1 + _random.Next(12);
                client.Track("pipeline_run",
                    new EventProperty("source_type", SourceTypes[_random.Next(SourceTypes.Length)]),
                    new EventProperty("datasets", datasets),
                    new EventProperty("nodes", datasets * (2 + _random.Next(8))),
                    new EventProperty("rows", (long)(1000 * Math.Exp(_random.NextDouble() * 9))));
            }

            if (preview)
            {
                client.Track("plugin_loaded", new EventProperty("plugin", "acme-postgres"));
            }

            duration -= load < duration ? load : duration;
        }

        clock.Advance(duration);
        if (failure.Exception is { } exception)
        {
            client.TrackError(exception, failure.Code);
        }

        client.TrackCommand(command.Path, command.Tokens, KnownNames, failure.Exception is null ? 0 : 1 + _random.Next(2), duration);
    }

    private static readonly (Exception? Exception, string? Code)[] Failures =
    [
        (new SocketException((int)SocketError.ConnectionRefused), null),
        (new HttpRequestException("Service unavailable", null, HttpStatusCode.ServiceUnavailable), null),
        (new TimeoutException(), "E_SOURCE_TIMEOUT"),
        (new InvalidDataException(), "E_CONFIG_INVALID"),
        (new InvalidDataException(), "E_CONFIG_INVALID"),
        (new UnauthorizedAccessException(), "E_ACCESS_DENIED"),
        (new OperationCanceledException(), null),
    ];

    private double Gaussian() =>
        Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
}
