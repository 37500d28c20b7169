namespace Candor.Collector.Security;

/// <summary>
/// How much one client may ask of the collector (<c>Candor:RateLimits:*</c>). A client is known by
/// its address, which behind a reverse proxy is the proxy's unless the proxy is listed in
/// <c>Candor:TrustedProxies</c>; then all clients share one allowance.
/// </summary>
internal sealed class RateLimitOptions
{
    /// <summary>Ingest requests (<c>POST /v1/events</c>, and <c>/v1/discard</c> when enabled) per second
    /// one client address may send with one write key, refilled continuously; beyond that the
    /// collector answers 429 <c>rate_limited</c> with <c>Retry-After</c>. <c>0</c> turns the ingest limit
    /// off. Default: 100 (a batch holds up to 1000 events, and an SDK client sends one batch at a time).</summary>
    public int IngestRequestsPerSecond { get; set; } = 100;

    /// <summary>How many ingest requests one write key and address may send at once beyond the rate,
    /// e.g. clients flushing a backlog after an outage (the size of the token bucket). Default: 200.</summary>
    public int IngestBurst { get; set; } = 200;

    /// <summary>Wrong or missing admin tokens one client address may present per minute. Once they are
    /// used up, every admin request from that address is answered 429 <c>rate_limited</c> until the
    /// minute is over, before its token is looked at, so guessing stops; requests with the right token
    /// do not count. <c>0</c> turns the limit off. Default: 10.</summary>
    public int AdminFailuresPerMinute { get; set; } = 10;

    /// <summary>Forget requests (<c>POST /v1/forget</c>) one client address may send per minute, in
    /// fixed one-minute windows, whatever their write key or answer; beyond that 429 <c>rate_limited</c>
    /// with <c>Retry-After</c>. An install id is the capability to forget, so guessing ids is slowed.
    /// <c>0</c> turns the limit off. Default: 10.</summary>
    public int ForgetRequestsPerMinute { get; set; } = 10;

    /// <summary>Access requests (<c>POST /v1/access</c>) one client address may send per minute, as
    /// for forget; tighter, since each answer reads up to a thousand events. <c>0</c> turns the limit
    /// off. Default: 5.</summary>
    public int AccessRequestsPerMinute { get; set; } = 5;

    public IEnumerable<string> Validate()
    {
        if (IngestRequestsPerSecond < 0)
        {
            yield return "Candor:RateLimits:IngestRequestsPerSecond must not be negative (0 turns the ingest limit off).";
        }

        if (IngestRequestsPerSecond > 0 && IngestBurst < 1)
        {
            yield return "Candor:RateLimits:IngestBurst must be at least 1.";
        }

        if (AdminFailuresPerMinute < 0)
        {
            yield return "Candor:RateLimits:AdminFailuresPerMinute must not be negative (0 turns the limit off).";
        }

        if (ForgetRequestsPerMinute < 0)
        {
            yield return "Candor:RateLimits:ForgetRequestsPerMinute must not be negative (0 turns the limit off).";
        }

        if (AccessRequestsPerMinute < 0)
        {
            yield return "Candor:RateLimits:AccessRequestsPerMinute must not be negative (0 turns the limit off).";
        }
    }
}
