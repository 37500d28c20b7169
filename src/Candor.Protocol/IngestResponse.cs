namespace Candor.Protocol;

/// <summary>The collector's answer to a batch: counts and a result per event.</summary>
public sealed class IngestResponse
{
    /// <summary>Events stored by this request.</summary>
    public int Accepted { get; set; }

    /// <summary>Events already stored earlier (same product and event id); not stored again.</summary>
    public int Duplicates { get; set; }

    /// <summary>Events refused (and quarantined) with a reason.</summary>
    public int Rejected { get; set; }

    /// <summary>One result per event, in the order sent.</summary>
    public IList<EventResult> Results { get; init; } = [];
}

/// <summary>What the collector did with one event.</summary>
public sealed class EventResult
{
    /// <summary>The event id as sent.</summary>
    public Guid Id { get; set; }

    /// <summary><c>accepted</c>, <c>duplicate</c> or <c>rejected</c>.</summary>
    public string Status { get; set; } = "";

    /// <summary>For a rejected event, the machine-readable reason code.</summary>
    public string? Code { get; set; }

    /// <summary>For a rejected event, a human-readable reason.</summary>
    public string? Message { get; set; }
}

/// <summary>The body of every error answer from the collector.</summary>
public sealed class ErrorResponse
{
    /// <summary>A machine-readable code, e.g. <c>invalid_write_key</c>; see <see cref="ErrorCodes"/>.</summary>
    public string Code { get; set; } = "";

    /// <summary>A human-readable explanation.</summary>
    public string Message { get; set; } = "";

    /// <summary>Per-event results when the request was a batch whose events were all refused.</summary>
    public IList<EventResult>? Results { get; init; }

    /// <summary>For <c>internal_error</c>: the id under which the collector logged the failure.</summary>
    public string? RequestId { get; init; }
}
