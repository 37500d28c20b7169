using Npgsql;
using NpgsqlTypes;

namespace Candor.Collector.Storage.Postgres;

/// <summary>
/// Two small tables kept next to <c>events</c>, in the same transaction as every write, so that
/// the install-level analytics (active and new installs, retention, version adoption, platform and
/// country breakdowns, the summary) read thousands of rows instead of scanning millions of events:
/// <list type="bullet">
/// <item><c>install_months</c>: one row per (product, month, install, install-level dimensions)
/// with a bitmap of the days of the month the install sent an event (bit d-1 for day d), its
/// first and last event time and its event count.</item>
/// <item><c>day_counts</c>: one row per (product, day, install-level dimensions) with the day's
/// events, command runs and failed command runs.</item>
/// </list>
/// Both are exact for any range of whole UTC days: a day is either inside a range or not, and the
/// dimensions are part of the key (NULL equal to NULL), so every filter and breakdown on them
/// reads the same events a scan would. Days and months are those of the event time in UTC, as the
/// analytics queries count them. Only events written through <see cref="PostgresEventStore"/>
/// are counted; the first start on a database without these tables fills them from the events.
/// </summary>
internal static class PostgresRollups
{
    /// <summary>The install-level dimensions, in key order. Each is a column of <c>events</c>
    /// with the same name and type, so the analytics dimension expressions work on all three.</summary>
    public const string Dimensions =
        "product_version, initial_version, runtime_version, os_family, os_version, architecture, ci, ci_name, country, region";

    private const string DimensionsDdl = """
            product_version text,
            initial_version text,
            runtime_version text,
            os_family text,
            os_version text,
            architecture text,
            ci boolean,
            ci_name text,
            country text,
            region text
        """;

    public const string Ddl = $"""
        CREATE TABLE IF NOT EXISTS install_months (
            product text NOT NULL,
            month date NOT NULL,
            install_id uuid NOT NULL,
        {DimensionsDdl},
            days integer NOT NULL,
            first_time timestamptz NOT NULL,
            last_time timestamptz NOT NULL,
            events bigint NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS install_months_key ON install_months (product, month, install_id, {Dimensions}) NULLS NOT DISTINCT;
        -- "Has this install an event before the range?" is one probe here.
        CREATE INDEX IF NOT EXISTS install_months_install ON install_months (product, install_id, first_time);
        CREATE TABLE IF NOT EXISTS day_counts (
            product text NOT NULL,
            day date NOT NULL,
        {DimensionsDdl},
            events bigint NOT NULL,
            runs bigint NOT NULL,
            failures bigint NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS day_counts_key ON day_counts (product, day, {Dimensions}) NULLS NOT DISTINCT;
        """;

    /// <summary>Fills both tables from the events already stored (a database from an older
    /// collector). Runs once, in the transaction that creates the tables.</summary>
    public const string Backfill = $"""
        INSERT INTO install_months (product, month, install_id, {Dimensions}, days, first_time, last_time, events)
        SELECT product, date_trunc('month', event_time AT TIME ZONE 'UTC')::date, install_id, {Dimensions},
               bit_or(1 << (extract(day FROM event_time AT TIME ZONE 'UTC')::int - 1)), min(event_time), max(event_time), count(*)
        FROM events WHERE install_id IS NOT NULL
        GROUP BY product, 2, install_id, {Dimensions};
        INSERT INTO day_counts (product, day, {Dimensions}, events, runs, failures)
        SELECT product, (event_time AT TIME ZONE 'UTC')::date, {Dimensions},
               count(*), count(*) FILTER (WHERE name = 'command'), count(*) FILTER (WHERE name = 'command' AND failed)
        FROM events
        GROUP BY product, 2, {Dimensions};
        """;

    private const string UpsertMonths = $"""
        INSERT INTO install_months AS t (product, month, install_id, {Dimensions}, days, first_time, last_time, events)
        SELECT * FROM unnest($1::text[], $2::date[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                             $10::boolean[], $11::text[], $12::text[], $13::text[], $14::integer[], $15::timestamptz[], $16::timestamptz[], $17::bigint[])
        ON CONFLICT (product, month, install_id, {Dimensions}) DO UPDATE SET
            days = t.days | excluded.days, first_time = least(t.first_time, excluded.first_time),
            last_time = greatest(t.last_time, excluded.last_time), events = t.events + excluded.events
        """;

    private const string UpsertDays = $"""
        INSERT INTO day_counts AS t (product, day, {Dimensions}, events, runs, failures)
        SELECT * FROM unnest($1::text[], $2::date[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                             $9::boolean[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::bigint[], $15::bigint[])
        ON CONFLICT (product, day, {Dimensions}) DO UPDATE SET
            events = t.events + excluded.events, runs = t.runs + excluded.runs, failures = t.failures + excluded.failures
        """;

    /// <summary>Adds the stored (not duplicate) events of a group to both tables. Rows go in key
    /// order, so two writers touching the same rows wait on each other instead of deadlocking.</summary>
    public static async Task AddAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<EventRecord> events, bool[] duplicate, CancellationToken cancellationToken)
    {
        var months = new Dictionary<MonthKey, MonthTotals>();
        var days = new Dictionary<DayKey, DayTotals>();
        for (var i = 0; i < events.Count; i++)
        {
            if (duplicate[i])
            {
                continue;
            }

            var e = events[i];
            var c = e.Context;
            var dims = new Dims(c.ProductVersion, c.InitialVersion, c.RuntimeVersion, c.OsFamily, c.OsVersion, c.Architecture, c.Ci, c.CiName, e.Country, e.Region);
            var time = e.Time.ToUniversalTime();
            var day = DateOnly.FromDateTime(time.UtcDateTime);
            var run = e.Name == "command";
            var dayKey = new DayKey(e.Product, day, dims);
            days.TryGetValue(dayKey, out var d);
            days[dayKey] = new DayTotals(d.Events + 1, d.Runs + (run ? 1 : 0), d.Failures + (run && e.Analytics.Failed == true ? 1 : 0));
            if (c.InstallId is { } install)
            {
                var monthKey = new MonthKey(e.Product, new DateOnly(day.Year, day.Month, 1), install, dims);
                var bit = 1 << (day.Day - 1);
                months[monthKey] = months.TryGetValue(monthKey, out var m)
                    ? new MonthTotals(m.Days | bit, time < m.First ? time : m.First, time > m.Last ? time : m.Last, m.Events + 1)
                    : new MonthTotals(bit, time, time, 1);
            }
        }

        if (months.Count > 0)
        {
            var keys = months.Keys.Order(MonthKey.Comparer).ToArray();
            await using var command = new NpgsqlCommand(UpsertMonths, connection, transaction);
            command.Parameters.Add(Array(keys.Select(k => k.Product), NpgsqlDbType.Text));
            command.Parameters.Add(Array(keys.Select(k => k.Month), NpgsqlDbType.Date));
            command.Parameters.Add(Array(keys.Select(k => k.Install), NpgsqlDbType.Uuid));
            AddDimensions(command, keys.Select(k => k.Dims).ToArray());
            command.Parameters.Add(Array(keys.Select(k => months[k].Days), NpgsqlDbType.Integer));
            command.Parameters.Add(Array(keys.Select(k => months[k].First.UtcDateTime), NpgsqlDbType.TimestampTz));
            command.Parameters.Add(Array(keys.Select(k => months[k].Last.UtcDateTime), NpgsqlDbType.TimestampTz));
            command.Parameters.Add(Array(keys.Select(k => months[k].Events), NpgsqlDbType.Bigint));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (days.Count > 0)
        {
            var keys = days.Keys.Order(DayKey.Comparer).ToArray();
            await using var command = new NpgsqlCommand(UpsertDays, connection, transaction);
            command.Parameters.Add(Array(keys.Select(k => k.Product), NpgsqlDbType.Text));
            command.Parameters.Add(Array(keys.Select(k => k.Day), NpgsqlDbType.Date));
            AddDimensions(command, keys.Select(k => k.Dims).ToArray());
            command.Parameters.Add(Array(keys.Select(k => days[k].Events), NpgsqlDbType.Bigint));
            command.Parameters.Add(Array(keys.Select(k => days[k].Runs), NpgsqlDbType.Bigint));
            command.Parameters.Add(Array(keys.Select(k => days[k].Failures), NpgsqlDbType.Bigint));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static void AddDimensions(NpgsqlCommand command, Dims[] dims)
    {
        command.Parameters.Add(Array(dims.Select(d => d.Version), NpgsqlDbType.Text));
        command.Parameters.Add(Array(dims.Select(d => d.InitialVersion), NpgsqlDbType.Text));
        command.Parameters.Add(Array(dims.Select(d => d.Runtime), NpgsqlDbType.Text));
        command.Parameters.Add(Array(dims.Select(d => d.Os), NpgsqlDbType.Text));
        command.Parameters.Add(Array(dims.Select(d => d.OsVersion), NpgsqlDbType.Text));
        command.Parameters.Add(Array(dims.Select(d => d.Architecture), NpgsqlDbType.Text));
        command.Parameters.Add(Array(dims.Select(d => d.Ci), NpgsqlDbType.Boolean));
        command.Parameters.Add(Array(dims.Select(d => d.CiName), NpgsqlDbType.Text));
        command.Parameters.Add(Array(dims.Select(d => d.Country), NpgsqlDbType.Text));
        command.Parameters.Add(Array(dims.Select(d => d.Region), NpgsqlDbType.Text));
    }

    private static NpgsqlParameter Array<T>(IEnumerable<T> values, NpgsqlDbType type) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | type, Value = values.ToArray() };

    private readonly record struct Dims(
        string? Version, string? InitialVersion, string? Runtime, string? Os, string? OsVersion,
        string? Architecture, bool? Ci, string? CiName, string? Country, string? Region)
    {
        public static int Compare(Dims a, Dims b) => First(
            string.CompareOrdinal(a.Version, b.Version), string.CompareOrdinal(a.InitialVersion, b.InitialVersion),
            string.CompareOrdinal(a.Runtime, b.Runtime), string.CompareOrdinal(a.Os, b.Os),
            string.CompareOrdinal(a.OsVersion, b.OsVersion), string.CompareOrdinal(a.Architecture, b.Architecture),
            Nullable.Compare(a.Ci, b.Ci), string.CompareOrdinal(a.CiName, b.CiName),
            string.CompareOrdinal(a.Country, b.Country), string.CompareOrdinal(a.Region, b.Region));
    }

    private readonly record struct MonthKey(string Product, DateOnly Month, Guid Install, Dims Dims)
    {
        public static readonly IComparer<MonthKey> Comparer = Comparer<MonthKey>.Create((a, b) =>
            First(string.CompareOrdinal(a.Product, b.Product), a.Month.CompareTo(b.Month), a.Install.CompareTo(b.Install), Dims.Compare(a.Dims, b.Dims)));
    }

    private readonly record struct DayKey(string Product, DateOnly Day, Dims Dims)
    {
        public static readonly IComparer<DayKey> Comparer = Comparer<DayKey>.Create((a, b) =>
            First(string.CompareOrdinal(a.Product, b.Product), a.Day.CompareTo(b.Day), Dims.Compare(a.Dims, b.Dims)));
    }

    // The first comparison that tells two keys apart (the rows per group are few).
    private static int First(params ReadOnlySpan<int> comparisons)
    {
        foreach (var c in comparisons)
        {
            if (c != 0)
            {
                return c;
            }
        }

        return 0;
    }

    private readonly record struct MonthTotals(int Days, DateTimeOffset First, DateTimeOffset Last, long Events);

    private readonly record struct DayTotals(long Events, long Runs, long Failures);
}
