using System.Threading.Channels;
using Candor.Consent;
using Candor.Context;
using Candor.Delivery;
using Candor.Diagnostics;
using Candor.Hosting;
using Candor.Protocol;

namespace Candor;

/// <summary>
/// The entry point of the SDK: records usage events and delivers them to the collector.
/// Create one per process with <see cref="Create"/>, and dispose it when the process exits.
/// </summary>
/// <remarks>
/// No member throws into the host once the client is created, and no member waits on the
/// network except <see cref="Dispose"/> and <see cref="DisposeAsync"/>, which spend at most
/// <see cref="CandorOptions.FlushBudget"/>.
/// </remarks>
public sealed class CandorClient : IDisposable, IAsyncDisposable
{
    private const int MaxEventsPerBatch = 500;

    private readonly CandorOptions _options;
    private readonly TimeProvider _time;
    private readonly Channel<TelemetryEvent> _queue;
    private readonly bool _sends;
    private HttpSender? _sender;
    private int _dropped;
    private int _disposed;

    internal CandorClient(CandorOptions options, ConsentDecision consent, ICandorEnvironment environment, TimeProvider time)
    {
        _options = options;
        _time = time;
        Consent = consent;
        Context = ContextBuilder.Build(options, environment.GetVariable);
        Context.InstallId = consent.InstallId;
        Context.UserId = consent.Level == TelemetryLevel.Identified ? consent.UserId : null;
        Context.ProjectId = consent.ProjectId;
        _queue = Channel.CreateBounded<TelemetryEvent>(new BoundedChannelOptions(options.QueueCapacity)
        {
            // Wait mode makes TryWrite report a full queue (DropWrite would report success and
            // drop silently); the SDK never actually waits, so the event is counted as dropped.
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        });
        // Consent gate (minimal until the delivery pipeline lands its own): below anonymous nothing
        // is sent, so no sender is created.
        _sends = options.Endpoint is not null && consent.Level >= TelemetryLevel.Anonymous;
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

        return CreateInEnvironment(options, SystemEnvironment.Instance, TimeProvider.System);
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
    internal EventContext Context { get; }

    /// <summary>Events dropped because the queue was full.</summary>
    internal int DroppedCount => Volatile.Read(ref _dropped);

    /// <summary>Records an event. Never blocks and never throws: when the queue is full the event
    /// is dropped and counted.</summary>
    /// <param name="name">The event name.</param>
    /// <param name="properties">The event's properties; copied, so the caller may reuse the dictionary.</param>
    public void Track(string name, IReadOnlyDictionary<string, PropertyValue>? properties = null)
    {
        if (Consent.Level < TelemetryLevel.Anonymous)
        {
            return;
        }

        if (string.IsNullOrEmpty(name) || Volatile.Read(ref _disposed) != 0)
        {
            CandorEventSource.Log.EventRefused(string.IsNullOrEmpty(name) ? "empty name" : "client disposed");
            return;
        }

        var telemetryEvent = new TelemetryEvent
        {
            Id = Guid.CreateVersion7(_time.GetUtcNow()),
            Name = name,
            Time = _time.GetUtcNow(),
            Properties = properties is null ? null : new Dictionary<string, PropertyValue>(properties, StringComparer.Ordinal),
        };
        if (!_queue.Writer.TryWrite(telemetryEvent))
        {
            Interlocked.Increment(ref _dropped);
            CandorEventSource.Log.EventsDropped(1, "queue full");
        }
    }

    /// <summary>Sends what is queued, within <see cref="CandorOptions.FlushBudget"/> or until
    /// <paramref name="cancellationToken"/> is cancelled, whichever comes first. Never throws.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        // Created on the first flush with something to send, so a run that tracks nothing (--help)
        // never pays for HTTP.
        if (_sends && _sender is null && _queue.Reader.TryPeek(out _))
        {
            _sender = new HttpSender(_options.Endpoint!, _options.WriteKey, connectTimeout: TimeSpan.FromSeconds(2));
        }

        if (_sender is null)
        {
            while (_queue.Reader.TryRead(out _))
            {
            }

            return;
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(_options.FlushBudget);
        while (!budget.IsCancellationRequested)
        {
            var batch = TakeBatch();
            if (batch is null)
            {
                return;
            }

            var outcome = await _sender.SendAsync(batch, budget.Token).ConfigureAwait(false);
            if (outcome != SendOutcome.Delivered)
            {
                CandorEventSource.Log.EventsDropped(batch.Events.Count, outcome.ToString());
                return;
            }
        }
    }

    private EventBatch? TakeBatch()
    {
        List<TelemetryEvent>? events = null;
        while (events is not { Count: >= MaxEventsPerBatch } && _queue.Reader.TryRead(out var item))
        {
            (events ??= []).Add(item);
        }

        return events is null ? null : new EventBatch { SentAt = _time.GetUtcNow(), Context = Context, Events = events };
    }

    /// <summary>Flushes within the budget, then releases the client.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            // Exit path of a console tool: there is no synchronization context to deadlock on,
            // and the wait is bounded by the flush budget. Nothing queued: nothing to wait for.
            if (_queue.Reader.TryPeek(out _))
            {
                Task.Run(() => FlushAsync()).Wait(_options.FlushBudget + TimeSpan.FromMilliseconds(50));
            }
        }
        catch (AggregateException)
        {
            CandorEventSource.Log.DeliveryFailed("flush failed at dispose");
        }
        finally
        {
            _sender?.Dispose();
        }
    }

    /// <summary>Flushes within the budget, then releases the client.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await FlushAsync().ConfigureAwait(false);
        _sender?.Dispose();
    }
}
