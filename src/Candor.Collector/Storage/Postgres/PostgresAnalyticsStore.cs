using System.Data.Common;
using System.Globalization;
using Candor.Collector.Analytics;
using Npgsql;
using NpgsqlTypes;

namespace Candor.Collector.Storage.Postgres;

/// <summary>
/// Analytics over the PostgreSQL event table, giving the same answers as
/// <see cref="DuckDb.DuckDbAnalyticsStore"/> (the shared contract tests run against both). SQL text is
/// constant: filters are always present and switched off by NULL parameters, and dimensions come
/// from a fixed map.
/// <para>Where the two differ in SQL, this one matches DuckDB's meaning: periods are truncated in
/// UTC (a week starts on Monday in both), labels sort byte-wise (<c>COLLATE "C"</c>, DuckDB's
/// order), <c>percentile_cont</c> is DuckDB's <c>quantile_cont</c>, and "latest value" ignores
/// NULLs as DuckDB's <c>arg_max</c> does.</para>
/// <para>Distinct counts are taken in two steps (group by install, then count the groups) rather
/// than with <c>count(DISTINCT …)</c>: the answer is the same, but PostgreSQL can hash and
/// parallelise a GROUP BY, while <c>count(DISTINCT …)</c> sorts every row in one process.</para>
/// <para>The questions are answered in PostgresAnalyticsStore.Installs.cs (installs and live
/// instances), .Breakdowns.cs (values of a dimension, versions over time, commands and operations)
/// and .Numeric.cs; the SQL they share is in .Sql.cs.</para>
/// </summary>
internal sealed partial class PostgresAnalyticsStore : IAnalyticsStore, IDisposable, IAsyncDisposable
{
    private const string SessionSettings = "SET jit = off";

    private readonly NpgsqlDataSource _dataSource;

    // How many analytics queries run on the server at once; the rest wait here. A dashboard load
    // asks 16 questions together, and each already uses the server's parallel workers: run all at
    // once on a small server and every one of them takes the sum of their times (measured at 10M
    // events on 2 cores: about 30 s, past Npgsql's 30 s command timeout), while two at a time
    // answer the first charts within seconds and none times out.
    private readonly SemaphoreSlim _running;

    private readonly bool _rollups;

    /// <param name="connectionString">The Npgsql connection string.</param>
    /// <param name="concurrentQueries">How many queries run on the server at once.</param>
    /// <param name="rollups">Whether questions read the rollups where they can (the default) or
    /// always scan the events, as before them (for benchmarks and tests that compare both).</param>
    public PostgresAnalyticsStore(string connectionString, int concurrentQueries = 2, bool rollups = true)
    {
        _rollups = rollups;
        _running = new SemaphoreSlim(concurrentQueries, concurrentQueries);
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        // These queries cost enough to trigger JIT compilation, which takes longer (measured: about
        // 0.8 s a query) than it saves on a few million rows.
        builder.UsePhysicalConnectionInitializer(
            connection => { using var command = new NpgsqlCommand(SessionSettings, connection); command.ExecuteNonQuery(); },
            async connection => { await using var command = new NpgsqlCommand(SessionSettings, connection); await command.ExecuteNonQueryAsync(); });
        _dataSource = builder.Build();
    }

    public async Task<IReadOnlyList<string>> ProductsAsync(CancellationToken cancellationToken) =>
        await QueryAsync("SELECT DISTINCT product COLLATE \"C\" AS product FROM events ORDER BY product", null, r => r.GetString(0), cancellationToken);

    /// <summary>Whether the query can be answered from the rollups: a range of whole UTC days and
    /// no command filter (the rollups count installs and events, not commands).</summary>
    private bool ByRollups(AnalyticsQuery query) => query.Command is null && ByEventRollups(query);

    /// <summary>Whether the event-level rollups answer: a range of whole UTC days (any filter).</summary>
    private bool ByEventRollups(AnalyticsQuery query) =>
        _rollups && query.From.UtcTicks % TimeSpan.TicksPerDay == 0 && query.To.UtcTicks % TimeSpan.TicksPerDay == 0;

    /// <summary>Whether duration_days answers: as <see cref="ByEventRollups"/>, and no filter on an
    /// install-level dimension, which that table does not keep.</summary>
    private bool ByDurationRollup(AnalyticsQuery query) =>
        ByEventRollups(query) && query is { Version: null, Os: null, Ci: null, Country: null };

    private async Task<IReadOnlyList<T>> QueryAsync<T>(
        string sql, AnalyticsQuery? query, Func<DbDataReader, T> read, CancellationToken cancellationToken,
        NpgsqlParameter[]? extra = null, bool filters = true)
    {
        await using var command = _dataSource.CreateCommand(sql);
        if (query is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<string>("product", query.Product));
            command.Parameters.Add(Timestamp("from", query.From));
            if (filters)
            {
                command.Parameters.Add(Timestamp("to", query.To));
                command.Parameters.Add(Nullable("version", query.Version, NpgsqlDbType.Text));
                command.Parameters.Add(Nullable("os", query.Os, NpgsqlDbType.Text));
                command.Parameters.Add(Nullable("ci", query.Ci, NpgsqlDbType.Boolean));
                command.Parameters.Add(Nullable("country", query.Country, NpgsqlDbType.Text));
                command.Parameters.Add(Nullable("command", query.Command, NpgsqlDbType.Text));
                var fromDay = DateOnly.FromDateTime(query.From.UtcDateTime);
                command.Parameters.Add(new NpgsqlParameter("from_day", NpgsqlDbType.Date) { Value = fromDay });
                command.Parameters.Add(new NpgsqlParameter("from_month", NpgsqlDbType.Date) { Value = new DateOnly(fromDay.Year, fromDay.Month, 1) });
                command.Parameters.Add(new NpgsqlParameter("to_day", NpgsqlDbType.Date) { Value = DateOnly.FromDateTime(query.To.UtcDateTime) });
            }
        }

        foreach (var parameter in extra ?? [])
        {
            command.Parameters.Add(parameter);
        }

        await _running.WaitAsync(cancellationToken);
        try
        {
            var list = new List<T>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                list.Add(read(reader));
            }

            return list;
        }
        finally
        {
            _running.Release();
        }
    }

    private static NpgsqlParameter Timestamp(string name, DateTimeOffset value) =>
        new(name, NpgsqlDbType.TimestampTz) { Value = value.UtcDateTime };

    // Typed, so that "@x IS NULL" has a type PostgreSQL can plan with when the value is NULL.
    private static NpgsqlParameter Nullable(string name, object? value, NpgsqlDbType type) =>
        new(name, type) { Value = value ?? DBNull.Value };

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static double? D(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Convert.ToDouble(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _dataSource.Dispose();
        _running.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        _running.Dispose();
    }
}
