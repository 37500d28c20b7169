using Candor.Protocol;

namespace Candor;

/// <summary>
/// A timed operation started by <see cref="CandorClient.StartOperation"/>. Disposing it records the
/// operation's event once, with <c>duration_ms</c>, <c>outcome</c> and, after a failure, <c>error_code</c>.
/// </summary>
/// <example>
/// <code>
/// using var operation = telemetry.StartOperation("build");
/// try { Build(); }
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

    /// <summary>Records the operation. Only the first call records.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _recorded, 1) != 0)
        {
            return;
        }

        var elapsed = _time.GetElapsedTime(_started);
        _client.Track(_name,
            new EventProperty(EventConventions.DurationMs, (long)elapsed.TotalMilliseconds),
            new EventProperty(EventConventions.Outcome, _failed ? EventConventions.OutcomeFailure : EventConventions.OutcomeSuccess),
            new EventProperty(EventConventions.ErrorCode, _errorCode));
    }
}
