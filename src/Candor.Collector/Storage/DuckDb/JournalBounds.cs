namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// The longest strings the DuckDB store takes from its journal, in characters. Ingest refuses longer
/// ones (<see cref="CollectorOptions.MaxStringLength"/>, <see cref="CollectorOptions.QuarantineEventChars"/>),
/// so these never cut what ingest accepted; they keep whatever a journal holds (one written before
/// those checks, or damaged) from reaching DuckDB, whose memory limit one oversized string can exceed.
/// A longer string is cut when it is read (never allocated whole); JSON properties cannot be cut and
/// stay readable, so an event whose properties pass <see cref="PropertiesChars"/> is quarantined instead
/// (<see cref="StorageRejection.ReasonCode"/>).
/// </summary>
/// <param name="FieldChars">Names and fields: product, name, schema version, reason code, every context field,
/// country, region, pseudonym and the analytics fields. Default 1,024 (<see cref="CollectorOptions.MaxStringLength"/>).</param>
/// <param name="ExcerptChars">A quarantined event's JSON and message. Default 4,096 (<see cref="CollectorOptions.QuarantineEventChars"/>).</param>
/// <param name="PropertiesChars">An event's properties as JSON: many fields of up to <paramref name="FieldChars"/>
/// each, escaped. Default 1,048,576.</param>
internal sealed record JournalBounds(int FieldChars = 1024, int ExcerptChars = 4096, int PropertiesChars = 1 << 20)
{
    public static JournalBounds Default { get; } = new();

    /// <summary>A quarantined event's <c>product/name/version</c>: three fields and two slashes.</summary>
    public int SchemaRefChars => (int)Math.Min(int.MaxValue, (3L * FieldChars) + 2);
}
