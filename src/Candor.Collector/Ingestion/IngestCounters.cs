using Candor.Collector.Operations;

namespace Candor.Collector.Ingestion;

/// <summary>Where a door's traffic is counted: the collector's metrics for the public endpoints,
/// nowhere for the demo's backfill.</summary>
internal interface IIngestCounters
{
    /// <summary>A request refused as a whole, under its code.</summary>
    void Refused(string code);

    /// <summary>One event rejected and quarantined, under its reason.</summary>
    void Rejected(string reason);

    /// <summary>A committed batch's stored events (only for products that stored any).</summary>
    void Stored(string product, int accepted, int duplicates);
}

/// <summary>The public endpoints' counters: <c>candor_requests_refused_total</c>,
/// <c>candor_events_rejected_total</c>, <c>candor_events_accepted_total</c> and
/// <c>candor_events_duplicate_total</c> (Operations/CollectorMetrics.cs). Refused admin, analytics and
/// dashboard calls are counted apart, in <c>candor_admin_requests_refused_total</c>.</summary>
internal sealed class IngestMetrics : IIngestCounters
{
    public static readonly IngestMetrics Instance = new();

    private IngestMetrics()
    {
    }

    public void Refused(string code) => CollectorMetrics.IngestRequestsRefused.WithLabels(code).Inc();

    public void Rejected(string reason) => CollectorMetrics.Rejected.WithLabels(reason).Inc();

    public void Stored(string product, int accepted, int duplicates)
    {
        CollectorMetrics.Accepted.WithLabels(product).Inc(accepted);
        CollectorMetrics.Duplicates.WithLabels(product).Inc(duplicates);
    }
}

/// <summary>Counts nothing.</summary>
internal sealed class UncountedIngest : IIngestCounters
{
    public static readonly UncountedIngest Instance = new();

    private UncountedIngest()
    {
    }

    public void Refused(string code)
    {
    }

    public void Rejected(string reason)
    {
    }

    public void Stored(string product, int accepted, int duplicates)
    {
    }
}
