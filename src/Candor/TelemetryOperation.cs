using Candor.Diagnostics;
using Candor.Protocol;

namespace Candor;

/// <summary>
/// A timed operation started by <see cref="CandorClient.StartOperation"/>. Disposing it records the
/// operation's event once, with <c>duration_ms</c>, <c>outcome</c>, after a failure <c>error_code</c>, and
/// the counts set with <see cref="Count"/> and <see cref="Add"/> (declared with <see cref="Catalog.EventDefinition.Count"/>).
/// </summary>
/// <example>
/// <code>
/// using var operation = telemetry.StartOperation("import");
/// try { foreach (var batch in batches) { Import(batch); operation.Add("batches"); operation.Add("records", batch.Count); } }
/// catch (Exception e) { operation.Fail(e); throw; }
/// </code>
/// </example>
public sealed class TelemetryOperation : IDisposable
{
    private readonly CandorClient _client;
    private readonly string _name;
    private readonly TimeProvider _time;
    private readonly long _started;
    private string? _errorCode;
    private bool _failed;
    private int _recorded;

    // Created at the first count: an operation that counts nothing allocates nothing more.
    private CountList? _counts;

    internal TelemetryOperation(CandorClient client, string name, TimeProvider time)
    {
        _client = client;
        _name = name;
        _time = time;
        _started = time.GetTimestamp();
    }

    /// <summary>Marks the operation failed with an error code (never a message).</summary>
    public void Fail(string errorCode)
    {
        _failed = true;
        _errorCode = errorCode;
    }

    /// <summary>Marks the operation failed with the code derived from <paramref name="exception"/>
    /// (see <see cref="CandorClient.TrackError"/>); the message is not recorded.</summary>
    public void Fail(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Fail(CandorClient.ErrorCodeOf(exception));
    }

    /// <summary>Sets the count <paramref name="name"/> (the last value wins), recorded with the operation's
    /// event as an integer property. Thread-safe; never throws: a null or reserved name or a negative value
    /// is ignored and reported through the <c>Candor</c> EventSource, and a name the event does not declare
    /// is dropped when the event is recorded, like any undeclared property.</summary>
    /// <param name="name">A count declared with <see cref="Catalog.EventDefinition.Count"/>, e.g. <c>records</c>.</param>
    /// <param name="value">The count, ≥ 0.</param>
    public void Count(string name, long value)
    {
        if (Accepts(name, value))
        {
            Counts().Set(name, value, add: false);
        }
    }

    /// <summary>Adds <paramref name="delta"/> to the count <paramref name="name"/> (starting from 0), e.g. once per
    /// batch or with a batch's record count. Thread-safe; never throws; otherwise as <see cref="Count"/>.
    /// A sum beyond <see cref="long.MaxValue"/> stays at <see cref="long.MaxValue"/>.</summary>
    /// <param name="name">A count declared with <see cref="Catalog.EventDefinition.Count"/>.</param>
    /// <param name="delta">What to add, ≥ 0. Default: 1.</param>
    public void Add(string name, long delta = 1)
    {
        if (Accepts(name, delta))
        {
            Counts().Set(name, delta, add: true);
        }
    }

    /// <summary>Records the operation. Only the first call records.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _recorded, 1) != 0)
        {
            return;
        }

        var elapsed = _time.GetElapsedTime(_started);
        var duration = new EventProperty(EventConventions.DurationMs, (long)elapsed.TotalMilliseconds);
        var outcome = new EventProperty(EventConventions.Outcome, _failed ? EventConventions.OutcomeFailure : EventConventions.OutcomeSuccess);
        var errorCode = new EventProperty(EventConventions.ErrorCode, _errorCode);
        if (Volatile.Read(ref _counts) is not { } counts)
        {
            _client.Track(_name, duration, outcome, errorCode);
            return;
        }

        _client.Track(_name, counts.ToProperties(duration, outcome, errorCode));
    }

    private bool Accepts(string? name, long value)
    {
        var reason = name is null ? "a count needs a name"
            : name is EventConventions.DurationMs or EventConventions.Outcome or EventConventions.ErrorCode ? "reserved for the operation"
            : value < 0 ? "a count must be 0 or more"
            : null;
        if (reason is null)
        {
            return true;
        }

        if (CandorEventSource.Log.IsEnabled())
        {
            CandorEventSource.Log.PropertyDropped(_name, name ?? "", reason);
        }

        return false;
    }

    private CountList Counts() =>
        Volatile.Read(ref _counts) ?? Interlocked.CompareExchange(ref _counts, new CountList(), null) ?? _counts!;

    /// <summary>The counts as (name, value) pairs in a small array under a lock: an operation has a handful
    /// of counts, so a linear search beats a dictionary, and the lock is uncontended but for bulk imports
    /// counting from several threads.</summary>
    private sealed class CountList
    {
        private readonly Lock _gate = new();
        private (string Name, long Value)[] _entries = new (string, long)[4];
        private int _length;

        public void Set(string name, long value, bool add)
        {
            lock (_gate)
            {
                for (var i = 0; i < _length; i++)
                {
                    ref var entry = ref _entries[i];
                    if (string.Equals(entry.Name, name, StringComparison.Ordinal))
                    {
                        entry.Value = add ? Sum(entry.Value, value) : value;
                        return;
                    }
                }

                if (_length == _entries.Length)
                {
                    Array.Resize(ref _entries, _length * 2);
                }

                _entries[_length++] = (name, value);
            }
        }

        public EventProperty[] ToProperties(EventProperty duration, EventProperty outcome, EventProperty errorCode)
        {
            lock (_gate)
            {
                var properties = new EventProperty[3 + _length];
                properties[0] = duration;
                properties[1] = outcome;
                properties[2] = errorCode;
                for (var i = 0; i < _length; i++)
                {
                    properties[3 + i] = new EventProperty(_entries[i].Name, _entries[i].Value);
                }

                return properties;
            }
        }

        private static long Sum(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
    }
}
