using Candor.Collector.Analytics;
using DuckDB.NET.Data;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>The "Services" view (<see cref="ServicesSql"/>): properties are read from the JSON text column.</summary>
internal sealed partial class DuckDbAnalyticsStore
{
    public async Task<ServicesOverview> ServicesAsync(AnalyticsQuery query, int k, CancellationToken cancellationToken)
    {
        var sql = new ServicesSql($"events WHERE {Filter} AND {InRange}", '$',
            name => $"json_extract_string(properties, '$.{name}')",
            name => $"TRY_CAST(json_extract_string(properties, '$.{name}') AS BIGINT)");
        return await sql.OverviewAsync(query, k, text =>
            QueryAsync(text, query, Values, cancellationToken,
                extra: text.Contains("$k", StringComparison.Ordinal) ? [new DuckDBParameter("k", k)] : null));
    }

    private static object?[] Values(System.Data.Common.DbDataReader reader)
    {
        var values = new object?[reader.FieldCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
        }

        return values;
    }
}
