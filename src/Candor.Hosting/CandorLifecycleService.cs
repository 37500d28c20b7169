using System.Diagnostics;
using Candor.Diagnostics;
using Candor.Protocol;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Candor.Hosting;

/// <summary>
/// The service's lifecycle as Candor sees it: consent is resolved and the client started while the host
/// starts (before any other hosted service); <c>startup</c> with the time from process start to ready
/// when the application has started; a <c>heartbeat</c> every <see cref="CandorServiceOptions.HeartbeatInterval"/>
/// (jittered by up to a tenth, so a fleet restarted at once does not beat in step); <c>shutdown</c> with
/// the uptime and the reason when the host stops; and, after every other hosted service has stopped
/// (their last events included), a flush within what is left of the host's shutdown timeout.
/// </summary>
/// <remarks>
/// <c>install</c> is recorded by <see cref="CandorRuntime"/> when it makes an install id. A per-process id
/// (no writable state directory) sends no <c>install</c>: it would count every restart as a new install.
/// </remarks>
internal sealed class CandorLifecycleService(
    CandorRuntime runtime, CandorTelemetry telemetry, IHostApplicationLifetime lifetime, IOptions<HostOptions> hostOptions,
    IServiceProvider services) : IHostedLifecycleService, IDisposable
{
    /// <summary>The most the SDK spends on its last flush, whatever the host's timeout.</summary>
    internal static readonly TimeSpan MaxFlushBudget = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private CancellationTokenRegistration _started;
    private ITimer? _heartbeat;
    private long _readyAt;
    private bool _ready;
    private long _stoppingAt;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        runtime.Start();
        _started = lifetime.ApplicationStarted.Register(OnStarted);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        _stoppingAt = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            _heartbeat?.Dispose();
            _heartbeat = null;
        }

        if (telemetry.IsEnabled(TelemetryPart.Lifecycle))
        {
            telemetry.Track(EventConventions.ShutdownEvent,
                new EventProperty(EventConventions.UptimeSeconds, UptimeSeconds()),
                new EventProperty(EventConventions.ShutdownReason, BackgroundServiceFailed() ? "failed" : "stopped"));
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Every other hosted service has stopped: what is queued goes out within the host's
    /// shutdown timeout, less a margin for the host's own work.</summary>
    public Task StoppedAsync(CancellationToken cancellationToken) =>
        runtime.StopAsync(FlushBudget(hostOptions.Value.ShutdownTimeout, Stopwatch.GetElapsedTime(_stoppingAt == 0 ? Stopwatch.GetTimestamp() : _stoppingAt)));

    /// <summary>What is left of <paramref name="shutdownTimeout"/> after <paramref name="elapsed"/>, less a
    /// tenth of it (at least 1.5 s: the host's own stop and the client's last steps after its budget were measured
    /// at up to 0.65 s against a blackholed collector on an idle machine, and took over 1 s on a busy two-core
    /// one) for the host, at most <see cref="MaxFlushBudget"/>.</summary>
    internal static TimeSpan FlushBudget(TimeSpan shutdownTimeout, TimeSpan elapsed)
    {
        if (shutdownTimeout == Timeout.InfiniteTimeSpan)
        {
            return MaxFlushBudget;
        }

        var margin = TimeSpan.FromTicks(Math.Max(shutdownTimeout.Ticks / 10, TimeSpan.FromSeconds(1.5).Ticks));
        var left = shutdownTimeout - elapsed - margin;
        return left <= TimeSpan.Zero ? TimeSpan.Zero : left > MaxFlushBudget ? MaxFlushBudget : left;
    }

    public void Dispose()
    {
        _started.Dispose();
        lock (_gate)
        {
            _heartbeat?.Dispose();
            _heartbeat = null;
        }
    }

    // Timer and lifetime callbacks must never throw: an exception there would end the process (e.g. an
    // invalid reload makes the options monitor throw).
    private void OnStarted()
    {
        try
        {
            Started();
        }
#pragma warning disable CA1031 // Contained and reported, never thrown into the host.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            CandorEventSource.Log.InternalError(ex.GetType().Name);
        }
    }

    private void Beat()
    {
        try
        {
            Beat(NextInterval());
        }
#pragma warning disable CA1031 // Contained and reported, never thrown into the host.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            CandorEventSource.Log.InternalError(ex.GetType().Name);
            lock (_gate)
            {
                // Beats go on at the default interval until the options can be read again.
                _heartbeat?.Change(new CandorServiceOptions().HeartbeatInterval, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private void Started()
    {
        _readyAt = runtime.Time.GetTimestamp();
        _ready = true;
        if (telemetry.IsEnabled(TelemetryPart.Lifecycle))
        {
            telemetry.Track(EventConventions.StartupEvent, new EventProperty(EventConventions.StartupMs, StartupMilliseconds()));
        }

        lock (_gate)
        {
            // The timer exists even while telemetry is off: a reload may turn it on; each beat asks first.
            _heartbeat = runtime.Time.CreateTimer(static state => ((CandorLifecycleService)state!).Beat(), this,
                NextInterval(), Timeout.InfiniteTimeSpan);
        }
    }

    private void Beat(TimeSpan next)
    {
        if (telemetry.IsEnabled(TelemetryPart.Lifecycle))
        {
            telemetry.Track(EventConventions.HeartbeatEvent,
                new EventProperty(EventConventions.UptimeSeconds, UptimeSeconds()),
                new EventProperty(EventConventions.HeartbeatIntervalSeconds, Math.Max(1L, (long)Math.Round(next.TotalSeconds))));
        }

        lock (_gate)
        {
            _heartbeat?.Change(next, Timeout.InfiniteTimeSpan);
        }
    }

    // The interval is read at each beat, so a reloaded interval applies from the next one.
    private TimeSpan NextInterval()
    {
        var interval = runtime.Options.HeartbeatInterval;
        var jitter = (Random.Shared.NextDouble() * 0.2) - 0.1;
        return interval + (interval * jitter);
    }

    private long UptimeSeconds() => _ready ? (long)runtime.Time.GetElapsedTime(_readyAt).TotalSeconds : 0;

    private static long StartupMilliseconds()
    {
        try
        {
            using var process = Process.GetCurrentProcess();
            var startup = DateTime.Now - process.StartTime;
            return startup < TimeSpan.Zero ? 0 : (long)startup.TotalMilliseconds;
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception)
        {
            // Not every platform reports a process's start time; the process's age is then unknown.
            return 0;
        }
    }

    // A BackgroundService whose ExecuteAsync threw makes the host stop (BackgroundServiceExceptionBehavior.StopHost);
    // its task is faulted by the time the host stops.
    private bool BackgroundServiceFailed()
    {
        try
        {
            foreach (var service in services.GetServices<IHostedService>())
            {
                if (service is BackgroundService { ExecuteTask.IsFaulted: true })
                {
                    return true;
                }
            }
        }
        catch (ObjectDisposedException)
        {
        }

        return false;
    }
}
