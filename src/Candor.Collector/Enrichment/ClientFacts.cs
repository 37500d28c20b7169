namespace Candor.Collector.Enrichment;

/// <summary>What ingest derived from the client address before forgetting it.</summary>
internal readonly record struct ClientFacts(string? Country, string? Region, string? IpPseudonym);
