namespace Candor.Protocol;

/// <summary>
/// What one process sends in one request to <c>POST /v1/events</c>: the context shared by every
/// event in the batch, and the events.
/// </summary>
public sealed class EventBatch
{
    /// <summary>When the client sent the batch, by the client's clock. The collector uses it to
    /// correct event times for clock skew.</summary>
    public DateTimeOffset SentAt { get; set; }

    /// <summary>Facts about the process that produced the events.</summary>
    public EventContext Context { get; set; } = new();

    /// <summary>The events, oldest first.</summary>
    public IList<TelemetryEvent> Events { get; init; } = [];
}
