using System.Net;
using Candor.Collector.Enrichment;
using Candor.Collector.Security;
using Candor.Protocol;

namespace Candor.Collector.Ingestion;

/// <summary>
/// A way into the <see cref="IngestPipeline"/>: what differs between the collector's public ingest
/// endpoints (Candor's own wire format today, other formats' endpoints later) and the demo's private
/// backfill. Whatever the door, a batch is validated, enriched, committed and answered the same way.
/// </summary>
internal interface IIngestDoor
{
    /// <summary>Whether the key opens this door at all, for any product; asked before the body is read.</summary>
    bool IsKnownWriteKey(string writeKey);

    /// <summary>Whether the key may send the product's events.</summary>
    WriteKeyCheck CheckWriteKey(string? writeKey, string product);

    /// <summary>When the batch counts as arrived, given the collector's <paramref name="now"/>: skew
    /// correction and the validator's time limits are measured from it.</summary>
    DateTimeOffset ArrivalOf(EventBatch batch, DateTimeOffset now);

    /// <summary>What is kept of where the batch came from; the one place a client address is read.</summary>
    ClientFacts Describe(EventBatch batch, IPAddress? client);

    /// <summary>Whether a full writer queue is waited out rather than answered 503 <c>overloaded</c>.</summary>
    bool WaitsWhenBusy { get; }

    /// <summary>Where the door's refusals, rejections and stored events are counted.</summary>
    IIngestCounters Counters { get; }
}

/// <summary>One batch's way in: its door, the write key it presented and the client's address (the
/// pipeline passes the address to <see cref="IIngestDoor.Describe"/> and nowhere else).</summary>
internal readonly record struct IngestCall(IIngestDoor Door, string? WriteKey, IPAddress? Client);

/// <summary>The collector's public ingest endpoints: the configured (or development) write keys, a
/// batch arrives when it is received, the client address is enriched and forgotten, and everything
/// is counted in the metrics.</summary>
internal sealed class PublicIngestDoor(Credentials credentials, ClientAddressEnricher enricher) : IIngestDoor
{
    public bool IsKnownWriteKey(string writeKey) => credentials.IsKnownWriteKey(writeKey);

    public WriteKeyCheck CheckWriteKey(string? writeKey, string product) => credentials.CheckWriteKey(writeKey, product);

    public DateTimeOffset ArrivalOf(EventBatch batch, DateTimeOffset now) => now;

    public ClientFacts Describe(EventBatch batch, IPAddress? client) => enricher.Describe(client);

    public bool WaitsWhenBusy => false;

    public IIngestCounters Counters => IngestMetrics.Instance;
}
