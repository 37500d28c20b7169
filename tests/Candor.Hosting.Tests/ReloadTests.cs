using System.Diagnostics;
using Candor.Hosting.Tests.Fakes;
using Candor.Protocol;
using Candor.TestSupport;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Candor.Hosting.Tests;

/// <summary>Configuration reloads: lowering consent stops sending at once and deletes what is queued and
/// spooled (issue 23, acceptance 3); raising it starts a new client; a part switched off stops only itself.</summary>
public sealed class ReloadTests
{
    [Fact]
    public async Task LoweringConsentThroughAReloadStopsSendingAtOnceAndEmptiesTheSpool()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        collector.Respond = _ => Results.StatusCode(503);
        using var environment = new FakeEnvironment();
        await using var service = TestService.Build(environment, collector.BaseAddress, new Dictionary<string, string?> { ["Telemetry"] = "anonymous" });
        await service.StartAsync();
        Assert.True(await TestService.Eventually(() => service.SpoolFiles().Length > 0), "the refused batch was not spooled");

        service.Reload("Telemetry", "off");

        Assert.Empty(service.SpoolFiles());
        Assert.Equal(TelemetryLevel.Off, service.Telemetry.Level);
        Assert.False(service.Telemetry.IsEnabled(TelemetryPart.Lifecycle));
        Assert.Null(service.Telemetry.Client);
        var requests = collector.Requests.Count;
        collector.Respond = _ => Results.Ok();
        service.Telemetry.TrackError(new InvalidOperationException(), "after_reload");
        await Task.Delay(300);
        await service.StopAsync();
        Assert.Equal(requests, collector.Requests.Count);
        Assert.Empty(service.SpoolFiles());
        Assert.Contains(service.Logs.Messages(LogLevel.Information), m => m.Contains("lowered to off", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LoweringConsentWhileARequestHangsReturnsAtOnceAndKeepsNothing()
    {
        await using var collector = new FaultyServer(Fault.AcceptAndNeverAnswer);
        using var environment = new FakeEnvironment();
        await using var service = TestService.Build(environment, collector.BaseAddress, new Dictionary<string, string?> { ["Telemetry"] = "anonymous" });
        await service.StartAsync();
        service.Telemetry.TrackError(new InvalidOperationException(), "in_flight");
        Assert.True(await TestService.Eventually(() => service.Telemetry.Client!.Attempts > 0), "no request was started");

        var stopwatch = Stopwatch.StartNew();
        service.Reload("Telemetry", "off");
        stopwatch.Stop();
        await service.StopAsync();

        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(1.5), $"the reload took {stopwatch.Elapsed}");
        Assert.Empty(service.SpoolFiles());
        Assert.Empty(Directory.Exists(service.SpoolDirectory) ? Directory.GetFileSystemEntries(service.SpoolDirectory) : []);
    }

    [Fact]
    public async Task RaisingConsentAgainStartsANewClientThatSends()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        await using var service = TestService.Build(environment, collector.BaseAddress, new Dictionary<string, string?> { ["Telemetry"] = "anonymous" });
        await service.StartAsync();
        var first = service.Telemetry.Client;
        Assert.True(await TestService.Eventually(() => collector.Events.Any(e => e.Name == EventConventions.StartupEvent)));

        service.Reload("Telemetry", "off");
        Assert.Null(service.Telemetry.Client);
        service.Reload("Telemetry", "on");

        Assert.NotNull(service.Telemetry.Client);
        Assert.NotSame(first, service.Telemetry.Client);
        service.Telemetry.TrackError(new InvalidOperationException(), "after_raise");
        Assert.True(await TestService.Eventually(() => collector.Events.Any(e => e.Name == EventConventions.ErrorEvent)));
        await service.StopAsync();
        // One install id for the whole life of the state directory, whichever client sent.
        Assert.Single(collector.Requests.Select(r => r.Batch.Context.InstallId).Distinct());
        Assert.Single(collector.Events, e => e.Name == EventConventions.InstallEvent);
    }

    [Fact]
    public async Task TurningAPartOffStopsOnlyThatPart()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        await using var service = TestService.Build(environment, collector.BaseAddress, new Dictionary<string, string?> { ["Telemetry"] = "anonymous" });
        await service.StartAsync();
        var client = service.Telemetry.Client;

        service.Reload("Lifecycle", "false");
        service.Reload("Errors", "false");

        Assert.False(service.Telemetry.IsEnabled(TelemetryPart.Lifecycle));
        Assert.False(service.Telemetry.IsEnabled(TelemetryPart.Errors));
        Assert.True(service.Telemetry.IsEnabled(TelemetryPart.HttpUsage));
        Assert.Same(client, service.Telemetry.Client);
        service.Telemetry.TrackError(new InvalidOperationException(), "errors_off");
        await service.StopAsync();
        Assert.Contains(collector.Events, e => e.Name == EventConventions.StartupEvent);
        Assert.DoesNotContain(collector.Events, e => e.Name == EventConventions.ShutdownEvent);
        Assert.DoesNotContain(collector.Events, e => e.Name == EventConventions.ErrorEvent);
    }

    [Fact]
    public async Task LocalRecordsToTheTransparencyLogAndNeverConnects()
    {
        await using var collector = new FaultyServer(Fault.ServerError);
        using var environment = new FakeEnvironment();
        await using var service = TestService.Build(environment, collector.BaseAddress, new Dictionary<string, string?> { ["Telemetry"] = "local" });

        await service.StartAsync();
        Assert.True(service.Telemetry.IsEnabled(TelemetryPart.Lifecycle));
        await service.StopAsync();

        Assert.Equal(0, collector.Connections);
        var log = File.ReadAllText(Path.Combine(service.StateDirectory, "transparency.jsonl"));
        Assert.Contains("\"startup\"", log, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(service.StateDirectory, "telemetry.toml")), "local needs no install id");
    }
}
