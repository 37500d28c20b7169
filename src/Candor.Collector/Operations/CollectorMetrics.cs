using Prometheus;

namespace Candor.Collector.Operations;

/// <summary>The collector's Prometheus metrics, served on <c>/metrics</c>.</summary>
internal static class CollectorMetrics
{
    public static readonly Counter Accepted = Metrics.CreateCounter(
        "candor_events_accepted_total", "Events stored.", "product");

    public static readonly Counter Duplicates = Metrics.CreateCounter(
        "candor_events_duplicate_total", "Events acknowledged as duplicates of stored ones.", "product");

    public static readonly Counter Rejected = Metrics.CreateCounter(
        "candor_events_rejected_total", "Events rejected and quarantined, by reason code.", "reason");

    /// <summary>Refused ingest requests only (Ingestion/IngestCounters.cs); refused admin, analytics
    /// and dashboard calls are <see cref="AdminRequestsRefused"/>.</summary>
    public static readonly Counter IngestRequestsRefused = Metrics.CreateCounter(
        "candor_requests_refused_total", "Ingest requests refused as a whole, by code (admin, analytics and dashboard calls: candor_admin_requests_refused_total).", "code");

    public static readonly Counter AdminRequestsRefused = Metrics.CreateCounter(
        "candor_admin_requests_refused_total", "Admin, analytics and dashboard API calls refused, by code (wrong token, bad query).", "code");

    public static readonly Counter MemoryTrims = Metrics.CreateCounter(
        "candor_memory_trims_total", "Times the collector gave memory back to the OS after a burst (Operations/MemoryTrimmer.cs).");

    public static readonly Gauge QueueDepth = Metrics.CreateGauge(
        "candor_ingest_queue_depth", "Batches waiting for the writer.");

    public static readonly Gauge PendingEvents = Metrics.CreateGauge(
        "candor_duckdb_pending_events", "Events acknowledged from the DuckDB store's journal and not yet applied to the database.");

    public static readonly Counter JournalRecordsSkipped = Metrics.CreateCounter(
        "candor_journal_records_skipped_total",
        "Records of the DuckDB store's journal that could not be read and were skipped, by reason: torn_tail (cut short by a crash, never acknowledged), checksum, bad_header, unreadable.",
        "reason");

    public static readonly Counter JournalStringsTruncated = Metrics.CreateCounter(
        "candor_journal_strings_truncated_total", "Strings longer than the DuckDB store's bounds, cut as they were read back from its journal.");

    public static readonly Counter StorageRejected = Metrics.CreateCounter(
        "candor_storage_rejected_total", "Acknowledged events the DuckDB store could not store as they were and quarantined as storage_rejected.");

    public static readonly Histogram RequestDuration = Metrics.CreateHistogram(
        "candor_ingest_request_duration_seconds", "Time from reading an ingest request to answering it.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });

    public static readonly Histogram CommitDuration = Metrics.CreateHistogram(
        "candor_commit_duration_seconds", "Time to commit one group of batches (DuckDB: to journal it).",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0005, 2, 16) });

    public static readonly Histogram CommitEvents = Metrics.CreateHistogram(
        "candor_commit_events", "Events (stored or quarantined) per group commit.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 4, 9) });

    /// <summary>Requests answered 429 by a rate limit, by limit; never labelled with the client's
    /// address or key, which would put them in every scrape.</summary>
    public static readonly Counter RateLimited = Metrics.CreateCounter(
        "candor_rate_limited_total", "Requests answered 429 by a rate limit: scope ingest (per write key and address) or admin (failed admin tokens per address).", "scope");

    /// <summary>The outcome of a forget or access request refused before the store was asked (a bad
    /// key or body, or a rate limit).</summary>
    public const string RefusedOutcome = "refused";

    /// <summary>Forget requests by outcome; never labelled with a product, an install id or a
    /// tombstone, so a scrape tells nothing about who forgot.</summary>
    public static readonly Counter ForgetRequests = Metrics.CreateCounter(
        "candor_forget_requests_total", "Forget requests (POST /v1/forget) by outcome: forgotten, already_forgotten, unknown (nothing held), refused (bad key or body, rate limited).", "outcome");

    public static readonly Counter AccessRequests = Metrics.CreateCounter(
        "candor_access_requests_total", "Access requests (POST /v1/access) by outcome: answered, unknown (nothing held), forgotten (answered 410), refused (bad key or body, rate limited).", "outcome");

    public static readonly Counter BatchesForgotten = Metrics.CreateCounter(
        "candor_ingest_batches_forgotten_total", "Ingest batches refused 410 install_forgotten: their install was forgotten, so nothing of them was stored.");

    public static readonly Counter RetentionDeleted = Metrics.CreateCounter(
        "candor_retention_deleted_total", "Rows deleted by retention because they expired, by kind: events (by event time) or quarantine (by receive time).", "kind");

    public static readonly Counter RetentionFailures = Metrics.CreateCounter(
        "candor_retention_failures_total", "Retention passes of one product that failed (logged; tried again at the next interval).");
}
