using System.Data.Common;

namespace Candor.Collector.Storage;

/// <summary>How many events of a product were quarantined in a range, in total, by reason code and by
/// schema (<c>product/name/version</c>, or <c>unknown</c> when the event named none; the
/// <see cref="MaxSchemas"/> largest). Counts of
/// rejected events, not of installs: the quarantine keeps no install grouping to fold.</summary>
internal sealed record QuarantineSummary(long Total, IReadOnlyList<QuarantineCount> ByReason, IReadOnlyList<QuarantineCount> BySchema)
{
    /// <summary>How many schemas the summary lists: the largest groups.</summary>
    public const int MaxSchemas = 100;

    /// <summary>The one statement both stores run: $1 product, $2 from (inclusive), $3 to (exclusive),
    /// on the time the events arrived. Rows: (kind, label, events), largest groups first. Schemas are
    /// counted by the MD5 of their reference, and only the <see cref="MaxSchemas"/> largest are named:
    /// a client can make every rejected event name a schema of its own, and grouping by the
    /// references themselves held them all in memory at once (DuckDB ran out at 48 MB).</summary>
    public static readonly string Sql = $"""
        SELECT 'reason' AS kind, reason_code AS label, count(*) AS events
        FROM quarantine WHERE product = $1 AND received_at >= $2 AND received_at < $3
        GROUP BY reason_code
        UNION ALL
        SELECT 'schema', coalesce(min(q.schema_ref), 'unknown'), top.events
        FROM (
            SELECT md5(coalesce(schema_ref, 'unknown')) AS schema_key, count(*) AS events
            FROM quarantine WHERE product = $1 AND received_at >= $2 AND received_at < $3
            GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {MaxSchemas}
        ) AS top
        JOIN quarantine q ON md5(coalesce(q.schema_ref, 'unknown')) = top.schema_key
            AND q.product = $1 AND q.received_at >= $2 AND q.received_at < $3
        GROUP BY top.schema_key, top.events
        ORDER BY kind, events DESC, label
        """;

    /// <summary>Reads the rows of <see cref="Sql"/>.</summary>
    public static async Task<QuarantineSummary> ReadAsync(DbDataReader reader, CancellationToken cancellationToken)
    {
        var byReason = new List<QuarantineCount>();
        var bySchema = new List<QuarantineCount>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var count = new QuarantineCount(reader.GetString(1), Convert.ToInt64(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture));
            (reader.GetString(0) == "reason" ? byReason : bySchema).Add(count);
        }

        return new QuarantineSummary(byReason.Sum(r => r.Events), byReason, bySchema);
    }
}

/// <summary>Quarantined events with one reason code or one schema.</summary>
internal sealed record QuarantineCount(string Label, long Events);
