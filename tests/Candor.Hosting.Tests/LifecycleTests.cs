using System.Diagnostics;
using Candor.Hosting.Tests.Fakes;
using Candor.Protocol;
using Candor.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Candor.Hosting.Tests;

/// <summary>The lifecycle events a service sends, and a shutdown that keeps to the host's timeout.</summary>
public sealed class LifecycleTests
{
    private static readonly Dictionary<string, string?> Anonymous = new() { ["Telemetry"] = "anonymous" };

    [Fact]
    public async Task StartupHeartbeatAndShutdownReachTheCollectorWhileTheServiceRuns()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var service = TestService.Build(environment, collector.BaseAddress,
            new Dictionary<string, string?> { ["Telemetry"] = "anonymous", ["HeartbeatInterval"] = "00:01:00" },
            services => services.AddSingleton<TimeProvider>(time));
        await service.StartAsync();

        Assert.True(await TestService.Eventually(() => collector.Events.Any(e => e.Name == EventConventions.HeartbeatEvent),
            step: () => time.Advance(TimeSpan.FromSeconds(1))), "no heartbeat reached the collector while the service ran");
        var startup = Assert.Single(collector.Events, e => e.Name == EventConventions.StartupEvent);
        Assert.True(TestService.IntegerOf(startup, EventConventions.StartupMs) >= 0);
        var heartbeat = collector.Events.First(e => e.Name == EventConventions.HeartbeatEvent);
        Assert.InRange(TestService.IntegerOf(heartbeat, EventConventions.UptimeSeconds), 54, 70);
        Assert.InRange(TestService.IntegerOf(heartbeat, EventConventions.HeartbeatIntervalSeconds), 54, 66);

        time.Advance(TimeSpan.FromSeconds(30));
        await service.StopAsync();

        var shutdown = Assert.Single(collector.Events, e => e.Name == EventConventions.ShutdownEvent);
        Assert.True(TestService.IntegerOf(shutdown, EventConventions.UptimeSeconds) >= TestService.IntegerOf(heartbeat, EventConventions.UptimeSeconds) + 30);
        Assert.Equal("stopped", TestService.StringOf(shutdown, EventConventions.ShutdownReason));
    }

    [Fact]
    public async Task ALifecycleSwitchedOffSendsNoLifecycleEvent()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var service = TestService.Build(environment, collector.BaseAddress,
            new Dictionary<string, string?> { ["Telemetry"] = "anonymous", ["HeartbeatInterval"] = "00:00:01", ["Lifecycle"] = "false" },
            services => services.AddSingleton<TimeProvider>(time));

        await service.StartAsync();
        for (var i = 0; i < 10; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
        }

        service.Telemetry.TrackError(new InvalidOperationException(), "still_recorded");
        await service.StopAsync();

        Assert.Equal([EventConventions.ErrorEvent], collector.Events.Select(e => e.Name));
    }

    [Fact]
    public async Task AServiceStoppedByAFailedBackgroundServiceSaysSo()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        await using var service = TestService.Build(environment, collector.BaseAddress, Anonymous,
            services => services.AddHostedService<FailingWorker>());

        try
        {
            await service.Host.RunAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (InvalidOperationException)
        {
            // The host may rethrow the worker's failure; the shutdown event is what this test is about.
        }

        var shutdown = Assert.Single(collector.Events, e => e.Name == EventConventions.ShutdownEvent);
        Assert.Equal("failed", TestService.StringOf(shutdown, EventConventions.ShutdownReason));
    }

    [Fact]
    public async Task ShutdownAgainstABlackholedCollectorStaysWithinTheHostsShutdownTimeout()
    {
        await using var collector = new FaultyServer(Fault.AcceptAndNeverAnswer);
        using var environment = new FakeEnvironment();
        var timeout = TimeSpan.FromSeconds(2);
        await using var service = TestService.Build(environment, collector.BaseAddress, Anonymous,
            services => services.Configure<HostOptions>(o => o.ShutdownTimeout = timeout));
        await service.StartAsync();
        for (var i = 0; i < 50; i++)
        {
            service.Telemetry.TrackError(new InvalidOperationException(), "e" + i);
        }

        await Task.Delay(200);
        var stopwatch = Stopwatch.StartNew();
        await service.StopAsync();
        stopwatch.Stop();

        Assert.True(stopwatch.Elapsed < timeout, $"stopping took {stopwatch.Elapsed}, the host allows {timeout}");
        Assert.NotEmpty(service.SpoolFiles());
    }

    private sealed class FailingWorker : BackgroundService
    {
        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            await Task.Delay(200, stoppingToken);
            throw new InvalidOperationException("the worker failed");
        }
    }
}
