using System.ComponentModel;
using System.Globalization;
using System.Net.Sockets;
using Candor.Catalog;
using Candor.Consent;
using Candor.Context;
using Candor.Delivery;
using Candor.Diagnostics;
using Candor.Platform;
using Candor.Protocol;
using Candor.Redaction;
using Candor.Rights;
using Candor.Transparency;

namespace Candor;

/// <summary>
/// The entry point of the SDK: records usage events and delivers them to the collector.
/// Create one per process with <see cref="Create"/>, and dispose it when the process exits.
/// </summary>
/// <remarks>
/// No member throws into the host once the client is created, and no member waits on the
/// network except <see cref="Dispose"/>, <see cref="DisposeAsync"/> and <see cref="FlushAsync"/>,
/// which spend at most <see cref="CandorOptions.FlushBudget"/>. What consent allows decides the
/// path of every event: <c>off</c> records nothing and starts nothing; <c>local</c> writes the
/// transparency log only; <c>anonymous</c> and <c>identified</c> deliver (and log). With
/// <c>&lt;PREFIX&gt;_TELEMETRY_DEBUG=1</c> each event is printed to standard error instead and nothing
/// is sent or written.
/// </remarks>
public sealed partial class CandorClient : IDisposable, IAsyncDisposable
{
    private readonly CandorOptions _options;
    private readonly TimeProvider _time;
    private readonly EventCatalog _catalog;
    private readonly Lazy<Redactor> _redactor;
    private readonly Lazy<EventContext> _context;
    private readonly EventQueue? _queue;
    private readonly DeliveryLoop? _loop;
    private readonly HttpSender? _sender;
    private readonly bool _debug;
    private int _dropped;
    private int _disposed;

    internal CandorClient(CandorOptions options, ConsentDecision consent, ICandorEnvironment environment, TimeProvider time,
        Redactor? redactor = null, bool startDelivery = true)
    {
        _options = options;
        _time = time;
        _catalog = options.Catalog ?? new EventCatalog();
        // The redactor (user and machine names) and the context (OS description, versions) are built on
        // first use, normally by the delivery thread while the host runs its command: neither is needed
        // before the first event, and a run that records nothing (e.g. --help) never pays for them.
        _redactor = redactor is not null ? new Lazy<Redactor>(redactor) : new Lazy<Redactor>(Redactor.ForCurrentProcess);
        Consent = consent;
        _context = new Lazy<EventContext>(() => BuildContext(options, consent, environment.GetVariable));
        if (consent.Level == TelemetryLevel.Off)
        {
            // Invariant 1: no queue, no file, no thread, no socket — except for a deletion the user asked
            // of the collector that it has not confirmed yet (see ForgetDelivery).
            ForgetThread = ForgetDelivery.StartIfPending(options, StateDirectoryOf(options, environment), time);
            return;
        }

        _debug = environment.GetVariable(options.ResolvedEnvironmentPrefix + "_TELEMETRY_DEBUG") is { } debug &&
            (debug == "1" || debug.Equals("true", StringComparison.OrdinalIgnoreCase));
        if (_debug)
        {
            return;
        }

        StateDirectory = StateDirectoryOf(options, environment);
        var log = options.TransparencyLogSize > 0
            ? new TransparencyLog(Path.Combine(StateDirectory, TransparencyLog.FileName), options.TransparencyLogSize)
            : null;
        Spool? spool = null;
        if (consent.Level >= TelemetryLevel.Anonymous && options.Endpoint is not null)
        {
            _sender = new HttpSender(options.Endpoint, options.WriteKey, options.ConnectTimeout, time, options.HttpHandlerFactory);
            spool = options.SpoolMaxFiles > 0 && options.SpoolMaxBytes > 0
                ? new Spool(Path.Combine(StateDirectory, "spool"), options.SpoolMaxBytes, options.SpoolMaxFiles, options.SpoolMaxAge, time)
                : null;
        }
        else
        {
            // Local, or no collector: no delivery thread to send a pending deletion on.
            ForgetThread = ForgetDelivery.StartIfPending(options, StateDirectory, time);
        }

        _queue = new EventQueue(options.QueueCapacity);
        _loop = new DeliveryLoop(_queue, options, _context, consent.Level, _sender, spool, log, time, warmUp: () => _ = _redactor.Value,
            forgetState: StateDirectory);
        if (startDelivery)
        {
            _loop.Start();
        }
    }

    /// <summary>Creates a client. Throws <see cref="ArgumentException"/> listing every problem when
    /// the options are invalid (a programming error, found at the first run).</summary>
    public static CandorClient Create(CandorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid Candor options: " + string.Join(" ", errors), nameof(options));
        }

        return CreateInEnvironment(options, SystemEnvironment.Instance, options.TimeProvider);
    }

    /// <summary>Resolves consent before anything else: nothing is queued, written or started until
    /// the level is known.</summary>
    internal static CandorClient CreateInEnvironment(CandorOptions options, ICandorEnvironment environment, TimeProvider time)
    {
        var consent = new ConsentResolver(options, environment).Resolve();
        return new CandorClient(options, consent, environment, time);
    }

    /// <summary>The telemetry level this process runs under, resolved when the client was created.</summary>
    public TelemetryLevel Level => Consent.Level;

    /// <summary>Whether the user answered "quit" at the first-run question. The host decides what
    /// that means (for example, exit before running the command). Default: <see langword="false"/>.</summary>
    public bool QuitRequested => Consent.QuitRequested;

    /// <summary>The consent this process runs under.</summary>
    internal ConsentDecision Consent { get; }

    /// <summary>The context sent with every batch from this process.</summary>
    internal EventContext Context => _context.Value;

    /// <summary>Where the spool and the transparency log live; null under <c>off</c> and in debug mode.</summary>
    internal string? StateDirectory { get; }

    /// <summary>The thread sending a pending deletion for a client without a delivery thread (off, local), for tests.</summary>
    internal Thread? ForgetThread { get; }

    /// <summary>Whether a background delivery task was started.</summary>
    internal bool IsRunning => _loop is not null;

    /// <summary>Delivery attempts made so far (requests started).</summary>
    internal int Attempts => _sender?.Attempts ?? 0;

    /// <summary>Empties the queue without delivering; for benchmarks, which run the client without its
    /// delivery thread so that only <c>Track</c> is measured.</summary>
    internal int DiscardQueued() => _loop?.Discard() ?? 0;

    /// <summary>Events dropped because the queue was full.</summary>
    internal int DroppedCount => Volatile.Read(ref _dropped);

    /// <summary>Records an event declared in <see cref="CandorOptions.Catalog"/>. Never blocks and never
    /// throws; allocates one small array. Undeclared events and properties, values of the wrong type or
    /// out of range are dropped and reported; strings are redacted and bounded before they are queued.
    /// When the queue is full the event is dropped and counted.</summary>
    /// <param name="name">The declared event name.</param>
    /// <param name="properties">The properties, e.g. <c>new("command", "run"), new("exit_code", 0)</c>.</param>
    public void Track(string name, params ReadOnlySpan<EventProperty> properties)
    {
        if (_queue is null && !_debug)
        {
            return;
        }

        try
        {
            if (Lookup(name) is { } definition && EventShaper.Shape(definition, properties, _redactor.Value) is { } values)
            {
                Enqueue(definition, values);
            }
        }
        catch (Exception ex)
        {
            CandorEventSource.Log.InternalError(ex.GetType().Name);
        }
    }

    /// <summary>Records an event declared in <see cref="CandorOptions.Catalog"/>, its properties given as a
    /// dictionary (copied; the caller may reuse it). Otherwise as <see cref="Track(string, ReadOnlySpan{EventProperty})"/>.</summary>
    public void Track(string name, IReadOnlyDictionary<string, PropertyValue>? properties)
    {
        if (_queue is null && !_debug)
        {
            return;
        }

        try
        {
            if (Lookup(name) is { } definition && EventShaper.Shape(definition, properties, _redactor.Value) is { } values)
            {
                Enqueue(definition, values);
            }
        }
        catch (Exception ex)
        {
            CandorEventSource.Log.InternalError(ex.GetType().Name);
        }
    }

    /// <summary>
    /// Records a command invocation with its arguments masked: command and option names are kept,
    /// every value and unknown token becomes <c>*****</c> (see <see cref="CommandMasking"/>). Tracks the
    /// event <paramref name="eventName"/> with <c>command</c>, <c>exit_code</c> and <c>duration_ms</c>, and
    /// <c>arguments</c> (the masked command line) when the catalog declares it.
    /// </summary>
    /// <param name="commandPath">The command's path without the program name, e.g. <c>run</c> or <c>telemetry status</c>.</param>
    /// <param name="tokens">The raw arguments as typed, without the program name.</param>
    /// <param name="knownNames">Every command name, option name and alias the tool declares.</param>
    /// <param name="exitCode">The command's exit code.</param>
    /// <param name="duration">How long the command took.</param>
    /// <param name="eventName">The declared event to record. Default: <c>command</c>.</param>
    public void TrackCommand(string commandPath, IEnumerable<string> tokens, IEnumerable<string> knownNames, int exitCode, TimeSpan duration, string eventName = EventConventions.CommandEvent)
    {
        if (_queue is null && !_debug)
        {
            return;
        }

        try
        {
            var declaresArguments = _catalog.TryGet(eventName, out var definition) && definition.IndexOf("arguments") >= 0;
            Track(eventName,
                new EventProperty(EventConventions.CommandProperty, commandPath),
                new EventProperty(EventConventions.ExitCode, exitCode),
                new EventProperty(EventConventions.DurationMs, (long)duration.TotalMilliseconds),
                declaresArguments ? new EventProperty("arguments", CommandMasking.MaskArguments(tokens, knownNames)) : default);
        }
        catch (Exception ex)
        {
            CandorEventSource.Log.InternalError(ex.GetType().Name);
        }
    }

    /// <summary>Starts timing an operation declared with <see cref="EventDefinition.Operation"/>. Disposing the
    /// returned scope records <c>duration_ms</c> and <c>outcome</c>: <c>success</c> unless
    /// <see cref="TelemetryOperation.Fail(string)"/> was called.</summary>
    public TelemetryOperation StartOperation(string name) => new(this, name, _time);

    /// <summary>
    /// Records an error declared with <see cref="EventDefinition.Error"/>: the exception's type name and an
    /// error code — never its message, stack or data, which can hold paths and user input.
    /// </summary>
    /// <param name="exception">The error.</param>
    /// <param name="errorCode">The code to record. Default: derived from the exception (a socket error name,
    /// an HTTP status, a Win32 code, or the HRESULT).</param>
    /// <param name="eventName">The declared event to record. Default: <c>error</c>.</param>
    public void TrackError(Exception exception, string? errorCode = null, string eventName = EventConventions.ErrorEvent)
    {
        if ((_queue is null && !_debug) || exception is null)
        {
            return;
        }

        try
        {
            Track(eventName,
                new EventProperty(EventConventions.ErrorType, exception.GetType().FullName ?? exception.GetType().Name),
                new EventProperty(EventConventions.ErrorCode, errorCode ?? ErrorCodeOf(exception)));
        }
        catch (Exception ex)
        {
            CandorEventSource.Log.InternalError(ex.GetType().Name);
        }
    }

    /// <summary>Sends what is queued now, waiting at most <see cref="CandorOptions.FlushBudget"/> or until
    /// <paramref name="cancellationToken"/> is cancelled. Never throws. Long-running hosts may call it;
    /// short-lived tools just dispose the client.</summary>
    public Task FlushAsync(CancellationToken cancellationToken = default) =>
        _loop is null || Volatile.Read(ref _disposed) != 0
            ? Task.CompletedTask
            : _loop.FlushAsync(_options.FlushBudget, cancellationToken);

    /// <summary>
    /// Tells the client that the host is starting work it will track (a command that records an event
    /// when it ends): the background thread prepares delivery now — the connection to the collector,
    /// the serializers, the redactor — in parallel with that work, instead of at the first
    /// event or after 100 ms of idleness. A short command then pays at exit only for the bytes on the
    /// wire. Returns at once; sends nothing by itself; does nothing when telemetry is off or local, or
    /// after <see cref="Dispose"/>. Not worth calling for invocations that record nothing (e.g. --help).
    /// </summary>
    public void WarmUp()
    {
        if (Volatile.Read(ref _disposed) == 0 && _sender is not null)
        {
            _loop?.WarmUpNow();
        }
    }

    /// <summary>Sends what is queued within <see cref="CandorOptions.FlushBudget"/>, spools what could not be
    /// sent for a later run, then releases the client. Returns within the budget whatever the network does.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _loop is null)
        {
            return;
        }

        _queue!.Complete();
        if (!_loop.Stop(_options.FlushBudget))
        {
            CandorEventSource.Log.DeliveryFailed("flush budget spent");
        }

        // The sender is left to the process's end when the loop is still running: disposing it under
        // an in-flight request would only turn a clean cancellation into an error.
        else
        {
            _sender?.Dispose();
            _loop.Dispose();
        }
    }

    /// <inheritdoc cref="Dispose"/>
    public ValueTask DisposeAsync() => DisposeWithinAsync(_options.FlushBudget);

    private static string StateDirectoryOf(CandorOptions options, ICandorEnvironment environment) =>
        options.StateDirectory ?? CandorDirectories.StateDirectory(environment, options.ProductName);

    private static EventContext BuildContext(CandorOptions options, ConsentDecision consent, Func<string, string?> getVariable)
    {
        var context = ContextBuilder.Build(options, getVariable);
        context.InstallId = consent.Level >= TelemetryLevel.Anonymous ? consent.InstallId : null;
        context.InitialVersion = context.InstallId is not null ? consent.InitialVersion : null;
        context.UserId = consent.Level == TelemetryLevel.Identified ? consent.UserId : null;
        context.InstallIdPerProcess = context.InstallId is not null && consent.InstallIdPerProcess;
        context.ProjectId = consent.Level >= TelemetryLevel.Anonymous ? consent.ProjectId : null;
        return context;
    }

    private EventDefinition? Lookup(string name)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            CandorEventSource.Log.EventRefused("client disposed");
            return null;
        }

        if (name is null || !_catalog.TryGet(name, out var definition))
        {
            CandorEventSource.Log.EventUndeclared(name ?? "(null)");
            return null;
        }

        return definition;
    }

    private void Enqueue(EventDefinition definition, PropertyValue[] values)
    {
        var now = _time.GetUtcNow();
        var queued = new QueuedEvent(definition, now, values);
        if (_debug)
        {
            PrintForDebugging(queued);
            return;
        }

        if (_queue!.TryWrite(queued))
        {
            _loop!.OnEnqueued();
        }
        else
        {
            Interlocked.Increment(ref _dropped);
            CandorEventSource.Log.EventsDropped(1, "queue full");
        }
    }

    private static void PrintForDebugging(QueuedEvent queued)
    {
        var json = System.Text.Encoding.UTF8.GetString(WireJson.SerializeEvent(queued.ToTelemetryEvent()));
        try
        {
            Console.Error.WriteLine("[telemetry debug, not sent] " + json);
        }
        catch (IOException)
        {
            // A closed standard error is the host's business, not a reason to fail.
        }
    }

    internal static string ErrorCodeOf(Exception exception) => exception switch
    {
        SocketException socket => socket.SocketErrorCode.ToString(),
        HttpRequestException { StatusCode: { } status } => "http_" + ((int)status).ToString(CultureInfo.InvariantCulture),
        HttpRequestException http => http.HttpRequestError.ToString(),
        Win32Exception win32 => "win32_" + win32.NativeErrorCode.ToString(CultureInfo.InvariantCulture),
        OperationCanceledException => "canceled",
        _ => "0x" + exception.HResult.ToString("X8", CultureInfo.InvariantCulture),
    };
}
