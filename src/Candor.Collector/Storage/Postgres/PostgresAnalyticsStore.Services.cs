using Candor.Collector.Analytics;
using Npgsql;

namespace Candor.Collector.Storage.Postgres;

/// <summary>The "Services" view (<see cref="ServicesSql"/>): properties are read from the jsonb column.
/// No rollup keeps service properties, so every figure scans the range's service events.</summary>
internal sealed partial class PostgresAnalyticsStore
{
    public async Task<ServicesOverview> ServicesAsync(AnalyticsQuery query, int k, CancellationToken cancellationToken)
    {
        var sql = new ServicesSql($"events WHERE {Base}", '@',
            name => $"(properties ->> '{name}')",
            name => $"CASE WHEN jsonb_typeof(properties -> '{name}') = 'number' THEN (properties ->> '{name}')::numeric::bigint END");
        return await sql.OverviewAsync(query, k, text =>
            QueryAsync(text, query, Values, cancellationToken, extra: [new NpgsqlParameter<int>("k", k)]));
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
