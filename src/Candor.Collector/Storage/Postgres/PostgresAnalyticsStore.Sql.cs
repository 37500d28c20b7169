using Candor.Collector.Analytics;
using Npgsql;
using NpgsqlTypes;

namespace Candor.Collector.Storage.Postgres;

/// <summary>
/// The SQL the questions share: the filters (always present, switched off by NULL parameters), the
/// ranges over the events and over the rollups, and the installs active per period from the
/// rollups.
/// </summary>
internal sealed partial class PostgresAnalyticsStore
{
    private const string Filter = $"{RollupFilter} AND {CommandFilter}";

    private const string CommandFilter = "(@command IS NULL OR (name = 'command' AND subject = @command))";

    private const string InRange = "event_time >= @from AND event_time < @to";

    // The product's events in range, matching the filters; every query starts from these rows.
    private const string Base = $"{Filter} AND {InRange}";

    // Installs first seen (under the filters) at or after @from, with their first and last event
    // before @until. The same installs as "min(event_time) >= @from" over every earlier event, but
    // found without scanning all history: events in the window, minus installs that have an
    // earlier event (one probe each into the (product, install_id, event_time) index).
    private const string FirstSeenInWindow = $"""
        SELECT w.install_id, w.first_seen, w.last_seen FROM (
            SELECT install_id, min(event_time) AS first_seen, max(event_time) AS last_seen
            FROM events WHERE {Filter} AND install_id IS NOT NULL AND event_time >= @from AND event_time < @until
            GROUP BY install_id) w
        WHERE NOT EXISTS (SELECT 1 FROM events WHERE {Filter} AND install_id = w.install_id AND event_time < @from)
        """;

    // The filters without the command, for the install-level rollups
    // (PostgresRollups), which do not keep it.
    private const string RollupFilter = """
        product = @product
        AND (@version IS NULL OR product_version = @version)
        AND (@os IS NULL OR os_family = @os)
        AND (@ci IS NULL OR ci = @ci)
        AND (@country IS NULL OR country = @country)
        """;

    // The bits of an install_months row (bit d-1 = day d of its month) for the range's days.
    private const string RangeDays =
        "(days::bigint & (((CAST(1 AS BIGINT) << (least(@to_day, (month + interval '1 month')::date) - month)) - 1)" +
        " - ((CAST(1 AS BIGINT) << greatest(@from_day - month, 0)) - 1)))";

    // install_months rows with an event in the range, matching the filters.
    private const string ActiveInRange = $"{RollupFilter} AND month >= @from_month AND month < @to_day AND {RangeDays} <> 0";

    // day_counts rows in the range, matching the filters.
    private const string DaysInRange = $"{RollupFilter} AND day >= @from_day AND day < @to_day";

    // Installs active in the range whose first event (under the filters) is in it, with that
    // first event's time: FirstSeenInWindow's installs, read from install_months.
    private const string NewInRange = $"""
        SELECT a.install_id, a.first_seen FROM (
            SELECT install_id, min(first_time) AS first_seen FROM install_months WHERE {ActiveInRange} GROUP BY install_id) a
        WHERE a.first_seen >= @from
          AND NOT EXISTS (SELECT 1 FROM install_months WHERE {RollupFilter} AND install_id = a.install_id AND first_time < @from)
        """;

    // The event-level rollups (event_months, event_days) keep the command too: every filter applies.
    private const string EventsActiveInRange = $"{Filter} AND month >= @from_month AND month < @to_day AND {RangeDays} <> 0";
    private const string EventDaysInRange = $"{Filter} AND day >= @from_day AND day < @to_day";

    // duration_days has no install-level dimensions: only for queries without those filters.
    private const string DurationDaysInRange =
        $"product = @product AND {CommandFilter} AND day >= @from_day AND day < @to_day";

    private const string Other = AnalyticsConstants.Other;
    private const string Unknown = AnalyticsConstants.Unknown;

    // An install_months row's range days as bits from the day <paramref name="origin"/> on.
    private static string ShiftedRangeDays(string origin) =>
        $"CASE WHEN month >= {origin} THEN {RangeDays} << (month - {origin}) ELSE {RangeDays} >> ({origin} - month) END";

    /// <summary>
    /// (period, k, install_id) for each period of <paramref name="interval"/> in which an install
    /// had an event with dimension value k, from install_months: a month is a row's month; days
    /// and weeks come from each (install, k)'s bitmap of active days since the first period's
    /// start. Null when that span is longer than a bitmap holds.
    /// </summary>
    private static (string Sql, NpgsqlParameter[] Parameters)? PeriodInstalls(AnalyticsQuery query, Interval interval, string key)
    {
        if (interval == Interval.Month)
        {
            return ($"""
                SELECT (month::timestamp AT TIME ZONE 'UTC') AS period, {key} AS k, install_id
                FROM install_months WHERE {ActiveInRange} GROUP BY 1, 2, 3
                """, []);
        }

        var fromDay = DateOnly.FromDateTime(query.From.UtcDateTime);
        // A week starts on Monday, as date_trunc('week', ...) has it.
        var origin = interval == Interval.Week ? fromDay.AddDays(-(((int)fromDay.DayOfWeek + 6) % 7)) : fromDay;
        var step = interval == Interval.Week ? 7 : 1;
        var span = DateOnly.FromDateTime(query.To.UtcDateTime).DayNumber - origin.DayNumber;
        if (span is <= 0 or > AnalyticsSql.MaxBitmapDays)
        {
            return null;
        }

        return ($"""
            SELECT ((@origin + @step * n)::timestamp AT TIME ZONE 'UTC') AS period, k, install_id
            FROM (SELECT {key} AS k, install_id, bit_or({ShiftedRangeDays("@origin")}) AS active
                  FROM install_months WHERE {ActiveInRange} GROUP BY 1, 2) b,
                 generate_series(0, @periods - 1) n
            WHERE (active >> (@step * n)) & @mask <> 0
            """,
            [
                new NpgsqlParameter("origin", NpgsqlDbType.Date) { Value = origin },
                new NpgsqlParameter<int>("step", step),
                new NpgsqlParameter<int>("periods", (span + step - 1) / step),
                new NpgsqlParameter<long>("mask", (1L << step) - 1),
            ]);
    }
}
