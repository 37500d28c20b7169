using Candor.Catalog;
using Candor.Consent;
using Candor.Context;
using Candor.Delivery;
using Candor.Diagnostics;
using Candor.Platform;
using Candor.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Candor.Hosting;

/// <summary>What <c>AddCandor</c> was given: the catalog (with the service events) and the configuration key
/// the notice names.</summary>
internal sealed record CandorRegistration(EventCatalog Catalog, string TelemetryKey);

/// <summary>
/// Owns the service's client: resolves consent when the host starts, creates the client when consent
/// allows it, and follows configuration reloads. Lowering below <c>anonymous</c> ends the client without
/// sending and deletes what is queued and spooled; raising it again starts a new client; a part switched
/// off stops only that part. When off there is no client at all: no queue, thread, socket or file.
/// </summary>
internal sealed partial class CandorRuntime : IDisposable
{
    /// <summary>The longest a reload waits for the delivery thread of a client it ends.</summary>
    private static readonly TimeSpan AbandonWait = TimeSpan.FromSeconds(1);

    private readonly IOptionsMonitor<CandorServiceOptions> _monitor;
    private readonly CandorTelemetry _telemetry;
    private readonly CandorRegistration _registration;
    private readonly ILogger _logger;
    private readonly ICandorEnvironment _environment;
    private readonly Func<HttpMessageHandler>? _httpHandler;
    private readonly Lock _gate = new();
    private ServiceVariables? _variables;
    private IDisposable? _subscription;
    private CandorEventLogger? _diagnostics;
    private CandorClient? _client;
    private ServiceIdentity? _perProcessIdentity;
    private TelemetryLevel _level;
    private bool _noticeLogged;
    private bool _stopped;

    public CandorRuntime(IOptionsMonitor<CandorServiceOptions> monitor, CandorTelemetry telemetry, CandorRegistration registration,
        ILogger<CandorTelemetry> logger, TimeProvider time, ICandorEnvironment environment, Func<HttpMessageHandler>? httpHandler)
    {
        _monitor = monitor;
        _telemetry = telemetry;
        _registration = registration;
        _logger = logger;
        Time = time;
        _environment = new ServiceEnvironment(environment);
        _httpHandler = httpHandler;
    }

    /// <summary>The container's clock (or the system's).</summary>
    public TimeProvider Time { get; }

    /// <summary>The options as they are now.</summary>
    public CandorServiceOptions Options => _monitor.CurrentValue;

    /// <summary>Reads the variables (once), decides consent and starts following configuration.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_variables is not null || _stopped)
            {
                return;
            }

            var options = _monitor.CurrentValue;
            _variables = ServiceConsent.ReadVariables(_environment, options.TelemetryVariable);
            if (_variables.Problem is { } problem)
            {
                LogVariableIgnored(problem);
            }

            Apply(options, starting: true);
        }

        _subscription = _monitor.OnChange((options, _) =>
        {
            try
            {
                lock (_gate)
                {
                    Apply(options, starting: false);
                }
            }
#pragma warning disable CA1031 // A reload is the operator's business: Candor's failure is reported, never thrown into it.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                CandorEventSource.Log.InternalError(ex.GetType().Name);
            }
        });
    }

    /// <summary>Ends the client after the host's last event: sends what is queued within
    /// <paramref name="budget"/> and spools the rest.</summary>
    public async Task StopAsync(TimeSpan budget)
    {
        if (Detach() is { } client)
        {
            await client.DisposeWithinAsync(budget).ConfigureAwait(false);
        }

        _diagnostics?.Dispose();
    }

    /// <summary>A container disposed without stopping the host: the client's own flush budget applies.</summary>
    public void Dispose()
    {
        Detach()?.Dispose();
        _diagnostics?.Dispose();
    }

    /// <summary>Stops following configuration and recording; returns the client for the caller to end.</summary>
    private CandorClient? Detach()
    {
        lock (_gate)
        {
            _stopped = true;
            _subscription?.Dispose();
            var client = _client;
            _client = null;
            _telemetry.Use(null);
            return client;
        }
    }

    private void Apply(CandorServiceOptions options, bool starting)
    {
        if (_stopped || _variables is null)
        {
            return;
        }

        var (level, decidedBy) = ServiceConsent.Decide(_variables, options.Telemetry, options.DefaultPolicy);
        if (!starting && level == _level)
        {
            // Only the parts may have changed: switched at once, the client stays.
            if (_client is not null)
            {
                _telemetry.Use(_client, options.PartMask);
            }

            return;
        }

        // Recording stops before anything else, so nothing is recorded under the old level meanwhile.
        _telemetry.Use(null);
        var previous = _client;
        _client = null;
        var stateDirectory = StateDirectoryOf(options);
        if (level < TelemetryLevel.Anonymous)
        {
            // Nothing recorded under a higher level leaves after it was lowered: the queue is dropped unsent
            // and the spool emptied, this process's and any earlier one's.
            previous?.Abandon(AbandonWait);
            Spool.PurgeDirectory(Path.Combine(stateDirectory, "spool"));
            if (!starting)
            {
                LogLowered(LevelNames.Name(level), decidedBy);
            }
        }
        else
        {
            previous?.Dispose();
        }

        _level = level;
        if (level == TelemetryLevel.Off)
        {
            LogOff(decidedBy);
            return;
        }

        // A per-process id stays the process's own across reloads: one instance, one id.
        var identity = level < TelemetryLevel.Anonymous ? null
            : _perProcessIdentity ?? ServiceConsent.ResolveIdentity(stateDirectory, options.ProductVersion ?? ContextBuilder.ProductVersion(new CandorOptions()));
        if (identity is { PerProcess: true } && _perProcessIdentity is null)
        {
            _perProcessIdentity = identity;
            LogPerProcess(identity.Problem ?? "");
        }

        var decision = new ConsentDecision(level, decidedBy, identity?.InstallId)
        {
            InitialVersion = identity?.InitialVersion,
            InstallIdPerProcess = identity?.PerProcess == true,
            Reason = decidedBy + " decided",
        };
        var client = new CandorClient(ClientOptions(options, stateDirectory, keepFiles: identity?.PerProcess != true), decision, _environment, Time);
        _diagnostics ??= new CandorEventLogger(_logger);
        _client = client;
        _telemetry.Use(client, options.PartMask);
        if (!_noticeLogged)
        {
            _noticeLogged = true;
            LogNotice(LevelNames.Name(level), decidedBy, NoticeOf(options));
        }

        if (identity is { Created: true } && _telemetry.IsEnabled(TelemetryPart.Lifecycle))
        {
            client.Track(EventConventions.InstallEvent);
        }
    }

    private string StateDirectoryOf(CandorServiceOptions options) =>
        string.IsNullOrWhiteSpace(options.StateDirectory)
            ? CandorDirectories.StateDirectory(_environment, options.ProductName)
            : options.StateDirectory;

    private CandorOptions ClientOptions(CandorServiceOptions service, string stateDirectory, bool keepFiles)
    {
        var options = new CandorOptions
        {
            ProductName = service.ProductName,
            ProductVersion = service.ProductVersion,
            Endpoint = service.Endpoint,
            WriteKey = service.WriteKey,
            EnvironmentPrefix = service.EnvironmentPrefix,
            Catalog = _registration.Catalog,
            TimeProvider = Time,
            StateDirectory = stateDirectory,
            HttpHandlerFactory = _httpHandler,
            // A container disposed without stopping the host; a stopping host gives its own budget.
            FlushBudget = TimeSpan.FromSeconds(1),
        };
        if (!keepFiles)
        {
            options.SpoolMaxFiles = 0;
            options.SpoolMaxBytes = 0;
            options.TransparencyLogSize = 0;
        }

        service.ConfigureClient?.Invoke(options);
        return options;
    }

    private string NoticeOf(CandorServiceOptions options) =>
        !string.IsNullOrWhiteSpace(options.NoticeText)
            ? options.NoticeText.TrimEnd()
            : $"{options.ProductName} sends anonymous usage data: start, stop, uptime and heartbeats; request counts, " +
              "status classes and durations per route template; client kinds and languages; error types and codes; " +
              "versions, OS, runtime, cloud and container. Never paths, query strings, header values, bodies, " +
              $"addresses or user names. Turn it off with {options.TelemetryVariable}=off or DO_NOT_TRACK=1 " +
              $"(read at startup), or set {_registration.TelemetryKey} = off in configuration (applied on reload).";

    [LoggerMessage(1, LogLevel.Information, "Telemetry is {Level} ({DecidedBy}). {Notice}")]
    private partial void LogNotice(string level, string decidedBy, string notice);

    [LoggerMessage(2, LogLevel.Debug, "Telemetry is off ({DecidedBy}): nothing is recorded.")]
    private partial void LogOff(string decidedBy);

    [LoggerMessage(3, LogLevel.Warning, "Telemetry uses an install id for this process only, and keeps no files: {Problem}")]
    private partial void LogPerProcess(string problem);

    [LoggerMessage(4, LogLevel.Information, "Telemetry lowered to {Level} ({DecidedBy}): what was queued and spooled is deleted unsent.")]
    private partial void LogLowered(string level, string decidedBy);

    [LoggerMessage(5, LogLevel.Warning, "{Problem}")]
    private partial void LogVariableIgnored(string problem);
}
