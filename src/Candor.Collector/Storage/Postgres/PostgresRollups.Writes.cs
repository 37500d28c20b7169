using Npgsql;
using NpgsqlTypes;

namespace Candor.Collector.Storage.Postgres;

/// <summary>Adding a group's stored events to the rollups, in the write's transaction.</summary>
internal static partial class PostgresRollups
{
    /// <summary>Adds the stored (not duplicate) events of a group to every table, in one round
    /// trip: the month tables updated in key order (so two writers touching the same rows wait on
    /// each other instead of deadlocking), the day tables appended to their pending tables.
    /// Returns how many pending rows it added.</summary>
    public static async Task<int> AddAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<EventRecord> events, bool[] duplicate, CancellationToken cancellationToken)
    {
        var installMonths = new Dictionary<(string Product, DateOnly Month, Guid Install, Dims Dims), (int Days, DateTime First, DateTime Last, long Events)>();
        var dayCounts = new Dictionary<(string Product, DateOnly Day, Dims Dims), (long Events, long Runs, long Failures)>();
        var eventMonths = new Dictionary<(string Product, DateOnly Month, Guid Install, EventDims Dims), int>();
        var eventDays = new Dictionary<(string Product, DateOnly Day, EventDims Dims), (long Events, long Failures)>();
        var durations = new Dictionary<(string Product, DateOnly Day, string Name, string? Subject, double Duration), long>();
        Candor.Protocol.EventContext? lastContext = null;
        string? lastCountry = null, lastRegion = null;
        Dims dims = null!;
        FilterDims? filters = null;
        for (var i = 0; i < events.Count; i++)
        {
            if (duplicate[i])
            {
                continue;
            }

            var e = events[i];
            var c = e.Context;
            var time = e.Time.UtcDateTime;
            var day = DateOnly.FromDateTime(time);
            var month = new DateOnly(day.Year, day.Month, 1);
            var bit = 1 << (day.Day - 1);
            var failed = e.Analytics.Failed == true;
            var run = e.Name == AnalyticsFields.CommandEvent;
            // A request's events share their context and address: their dimensions are made (and
            // hashed) once.
            if (!ReferenceEquals(c, lastContext) || !ReferenceEquals(e.Country, lastCountry) || !ReferenceEquals(e.Region, lastRegion))
            {
                (lastContext, lastCountry, lastRegion) = (c, e.Country, e.Region);
                dims = new Dims(c.ProductVersion, c.InitialVersion, c.RuntimeVersion, c.OsFamily, c.OsVersion, c.Architecture, c.Ci, c.CiName, e.Country, e.Region);
                filters = new FilterDims(c.ProductVersion, c.OsFamily, c.Ci, e.Country);
            }

            var eventDims = new EventDims(e.Name, e.Analytics.Subject, e.Analytics.ErrorCode, filters!);

            var d = dayCounts.GetValueOrDefault((e.Product, day, dims));
            dayCounts[(e.Product, day, dims)] = (d.Events + 1, d.Runs + (run ? 1 : 0), d.Failures + (run && failed ? 1 : 0));
            var ed = eventDays.GetValueOrDefault((e.Product, day, eventDims));
            eventDays[(e.Product, day, eventDims)] = (ed.Events + 1, ed.Failures + (failed ? 1 : 0));
            if (e.Analytics.DurationMs is { } duration)
            {
                var key = (e.Product, day, e.Name, e.Analytics.Subject, duration);
                durations[key] = durations.GetValueOrDefault(key) + 1;
            }

            if (c.InstallId is { } install)
            {
                installMonths[(e.Product, month, install, dims)] = installMonths.TryGetValue((e.Product, month, install, dims), out var m)
                    ? (m.Days | bit, time < m.First ? time : m.First, time > m.Last ? time : m.Last, m.Events + 1)
                    : (bit, time, time, 1);
                eventMonths[(e.Product, month, install, eventDims)] = eventMonths.GetValueOrDefault((e.Product, month, install, eventDims)) | bit;
            }
        }

        if (dayCounts.Count == 0)
        {
            return 0;
        }

        await using var batch = new NpgsqlBatch(connection, transaction);
        if (installMonths.Count > 0)
        {
            var rows = installMonths.ToArray();
            batch.BatchCommands.Add(Upsert(
                "install_months", $"product, month, install_id, {Dimensions}", "days, first_time, last_time, events",
                "days = t.days | excluded.days, first_time = least(t.first_time, excluded.first_time), " +
                "last_time = greatest(t.last_time, excluded.last_time), events = t.events + excluded.events",
                [
                    Column(rows, r => r.Key.Product), Column(rows, r => r.Key.Month), Column(rows, r => r.Key.Install),
                    .. DimensionColumns(rows.Select(r => r.Key.Dims).ToArray()),
                    Column(rows, r => r.Value.Days), Column(rows, r => r.Value.First), Column(rows, r => r.Value.Last), Column(rows, r => r.Value.Events),
                ]));
        }

        var dayRows = dayCounts.ToArray();
        batch.BatchCommands.Add(Append(
            "day_counts",
            [
                Column(dayRows, r => r.Key.Product), Column(dayRows, r => r.Key.Day),
                .. DimensionColumns(dayRows.Select(r => r.Key.Dims).ToArray()),
                Column(dayRows, r => r.Value.Events), Column(dayRows, r => r.Value.Runs), Column(dayRows, r => r.Value.Failures),
            ]));
        if (eventMonths.Count > 0)
        {
            var rows = eventMonths.ToArray();
            batch.BatchCommands.Add(Upsert(
                "event_months", $"product, month, install_id, {EventDimensions}", "days", "days = t.days | excluded.days",
                [
                    Column(rows, r => r.Key.Product), Column(rows, r => r.Key.Month), Column(rows, r => r.Key.Install),
                    .. EventDimensionColumns(rows.Select(r => r.Key.Dims).ToArray()),
                    Column(rows, r => r.Value),
                ]));
        }

        var eventDayRows = eventDays.ToArray();
        batch.BatchCommands.Add(Append(
            "event_days",
            [
                Column(eventDayRows, r => r.Key.Product), Column(eventDayRows, r => r.Key.Day),
                .. EventDimensionColumns(eventDayRows.Select(r => r.Key.Dims).ToArray()),
                Column(eventDayRows, r => r.Value.Events), Column(eventDayRows, r => r.Value.Failures),
            ]));
        if (durations.Count > 0)
        {
            var rows = durations.ToArray();
            batch.BatchCommands.Add(Append(
                "duration_days",
                [
                    Column(rows, r => r.Key.Product), Column(rows, r => r.Key.Day), Column(rows, r => r.Key.Name),
                    Column(rows, r => r.Key.Subject), Column(rows, r => r.Key.Duration), Column(rows, r => r.Value),
                ]));
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        return dayRows.Length + eventDayRows.Length + durations.Count;
    }

    /// <summary>A plain INSERT into a folded table's pending table of rows sent as one array per
    /// column, in the order of <see cref="ColumnsOf"/>.</summary>
    private static NpgsqlBatchCommand Append(string table, NpgsqlParameter[] values)
    {
        var command = new NpgsqlBatchCommand(
            $"INSERT INTO {table}_pending ({ColumnsOf(table)}) SELECT * FROM unnest({string.Join(", ", values.Select((_, i) => $"${i + 1}"))})");
        command.Parameters.AddRange(values);
        return command;
    }

    /// <summary>INSERT … ON CONFLICT DO UPDATE of rows sent as one array per column (the
    /// <paramref name="key"/> columns, then the <paramref name="values"/> columns), in key order.</summary>
    private static NpgsqlBatchCommand Upsert(string table, string key, string values, string update, NpgsqlParameter[] columns)
    {
        var keyCount = key.Split(',').Length;
        var command = new NpgsqlBatchCommand($"""
            INSERT INTO {table} AS t ({key}, {values})
            SELECT * FROM unnest({string.Join(", ", columns.Select((_, i) => $"${i + 1}"))}) ORDER BY {string.Join(", ", Enumerable.Range(1, keyCount))}
            ON CONFLICT ({key}) DO UPDATE SET {update}
            """);
        command.Parameters.AddRange(columns);
        return command;
    }

    private static NpgsqlParameter[] DimensionColumns(Dims[] dims) =>
    [
        Column(dims, d => d.Version), Column(dims, d => d.InitialVersion), Column(dims, d => d.Runtime), Column(dims, d => d.Os),
        Column(dims, d => d.OsVersion), Column(dims, d => d.Architecture), Column(dims, d => d.Ci), Column(dims, d => d.CiName),
        Column(dims, d => d.Country), Column(dims, d => d.Region),
    ];

    private static NpgsqlParameter[] EventDimensionColumns(EventDims[] dims) =>
    [
        Column(dims, d => d.Name), Column(dims, d => d.Subject), Column(dims, d => d.ErrorCode), Column(dims, d => d.Filters.Version),
        Column(dims, d => d.Filters.Os), Column(dims, d => d.Filters.Ci), Column(dims, d => d.Filters.Country),
    ];

    private static NpgsqlParameter Column<TRow, T>(TRow[] rows, Func<TRow, T> value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | TypeOf<T>(), Value = rows.Select(value).ToArray() };

    private static NpgsqlDbType TypeOf<T>() =>
        typeof(T) == typeof(string) ? NpgsqlDbType.Text
        : typeof(T) == typeof(DateOnly) ? NpgsqlDbType.Date
        : typeof(T) == typeof(Guid) ? NpgsqlDbType.Uuid
        : typeof(T) == typeof(bool) ? NpgsqlDbType.Boolean
        : typeof(T) == typeof(int) ? NpgsqlDbType.Integer
        : typeof(T) == typeof(long) ? NpgsqlDbType.Bigint
        : typeof(T) == typeof(double) ? NpgsqlDbType.Double
        : typeof(T) == typeof(DateTime) ? NpgsqlDbType.TimestampTz
        : throw new ArgumentOutOfRangeException(nameof(T), typeof(T), "no PostgreSQL type for this column");

    /// <summary>The install-level dimensions of an event, hashed once.</summary>
    private sealed record Dims(
        string? Version, string? InitialVersion, string? Runtime, string? Os, string? OsVersion,
        string? Architecture, bool Ci, string? CiName, string? Country, string? Region)
    {
        private readonly int _hash = HashCode.Combine(
            HashCode.Combine(Version, InitialVersion, Runtime, Os, OsVersion),
            HashCode.Combine(Architecture, Ci, CiName, Country, Region));

        public override int GetHashCode() => _hash;

        public bool Equals(Dims? other) => ReferenceEquals(this, other) || (other is not null && _hash == other._hash
            && (Version, InitialVersion, Runtime, Os, OsVersion, Architecture, Ci, CiName, Country, Region)
                == (other.Version, other.InitialVersion, other.Runtime, other.Os, other.OsVersion, other.Architecture, other.Ci, other.CiName, other.Country, other.Region));
    }

    /// <summary>The dimensions the filters use, hashed once.</summary>
    private sealed record FilterDims(string? Version, string? Os, bool Ci, string? Country)
    {
        private readonly int _hash = HashCode.Combine(Version, Os, Ci, Country);

        public override int GetHashCode() => _hash;

        public bool Equals(FilterDims? other) => ReferenceEquals(this, other) || (other is not null && _hash == other._hash
            && (Version, Os, Ci, Country) == (other.Version, other.Os, other.Ci, other.Country));
    }

    private readonly record struct EventDims(string Name, string? Subject, string? ErrorCode, FilterDims Filters);
}
