using System.Globalization;
using Candor.Collector.Analytics;
using Candor.Protocol;

namespace Candor.Collector.Storage;

/// <summary>
/// The SQL of the "Services" view (<see cref="IAnalyticsStore.ServicesAsync"/>), written once for
/// both stores: each gives the rows to start from (its events under the query's filters and range),
/// its parameter marker and how it reads a text or integer property; everything else is spelled so
/// that DuckDB and PostgreSQL give the same answer. Groups are folded as the other breakdowns are:
/// values seen from fewer than <c>k</c> installs become "other".
/// </summary>
/// <param name="rows">"events WHERE …": the product's events in range under the filters.</param>
/// <param name="parameter">The store's parameter marker ('$' or '@').</param>
/// <param name="text">A text property's SQL, from its name.</param>
/// <param name="integer">An integer property's SQL (NULL when it is not a number), from its name.</param>
internal sealed class ServicesSql(string rows, char parameter, Func<string, string> text, Func<string, string> integer)
{
    /// <summary>The heartbeat interval assumed for an instance that has not announced one (the SDK's default).</summary>
    public const int DefaultIntervalSeconds = 900;

    private const string Other = AnalyticsConstants.Other;
    private const string Unknown = AnalyticsConstants.Unknown;

    // The events that make a product a service: heartbeats alone do not (a tool's long-running agent sends them too).
    private static readonly string ServiceEventNames = Names(
        EventConventions.InstallEvent, EventConventions.StartupEvent, EventConventions.ShutdownEvent,
        EventConventions.HttpRequestsEvent, EventConventions.HttpClientsEvent, EventConventions.HttpErrorEvent);

    private static readonly string LifecycleNames = Names(EventConventions.StartupEvent, EventConventions.HeartbeatEvent, EventConventions.ShutdownEvent);

    // The histogram buckets in order, the overflow last.
    private static readonly string[] Buckets = [.. EventConventions.DurationBuckets.Select(EventConventions.DurationBucket), EventConventions.DurationOverflow];

    private string K => parameter + "k";

    /// <summary>One row: the service events, and the distinct installs that sent them.</summary>
    public string CountEvents => $"SELECT count(*), count(DISTINCT install_id) FROM {rows} AND name IN ({ServiceEventNames})";

    /// <summary>One row: live, started, installs, installs behind the startup times, installs behind
    /// the uptimes, startup p50 and p95, uptime p50, installs of the live instances, installs of the
    /// started instances. An instance is a session (one process run).</summary>
    public string Instances => $"""
        WITH life AS (
            SELECT session_id, install_id, name, event_time,
                   {integer(EventConventions.HeartbeatIntervalSeconds)} AS interval_s,
                   {integer(EventConventions.UptimeSeconds)} AS uptime_s,
                   {integer(EventConventions.StartupMs)} AS startup_ms
            FROM {rows} AND name IN ({LifecycleNames}) AND session_id IS NOT NULL),
        per AS (
            SELECT session_id,
                   max(event_time) FILTER (WHERE name <> '{EventConventions.ShutdownEvent}') AS alive,
                   max(event_time) FILTER (WHERE name = '{EventConventions.ShutdownEvent}') AS stopped,
                   coalesce(max(interval_s) FILTER (WHERE name = '{EventConventions.HeartbeatEvent}'), {DefaultIntervalSeconds}) AS interval_s,
                   max(uptime_s) AS uptime_s
            FROM life GROUP BY session_id),
        live AS (
            SELECT session_id FROM per WHERE alive IS NOT NULL AND (stopped IS NULL OR stopped < alive)
                AND extract(epoch FROM {parameter}to) - extract(epoch FROM alive) <= 2 * interval_s),
        histogram AS (
            SELECT 'startup' AS label, startup_ms AS v, count(*) AS n
            FROM life WHERE name = '{EventConventions.StartupEvent}' AND startup_ms IS NOT NULL GROUP BY startup_ms
            UNION ALL
            SELECT 'uptime' AS label, uptime_s AS v, count(*) AS n FROM per WHERE uptime_s IS NOT NULL GROUP BY uptime_s),
        {AnalyticsSql.HistogramPercentiles("histogram")}
        SELECT
            (SELECT count(*) FROM live),
            (SELECT count(DISTINCT session_id) FROM life WHERE name = '{EventConventions.StartupEvent}'),
            (SELECT count(DISTINCT install_id) FROM life),
            (SELECT count(DISTINCT install_id) FROM life WHERE name = '{EventConventions.StartupEvent}' AND startup_ms IS NOT NULL),
            (SELECT count(DISTINCT install_id) FROM life WHERE uptime_s IS NOT NULL),
            (SELECT p50 FROM percentiles WHERE label = 'startup'),
            (SELECT p95 FROM percentiles WHERE label = 'startup'),
            (SELECT p50 FROM percentiles WHERE label = 'uptime'),
            (SELECT count(DISTINCT install_id) FROM life WHERE session_id IN (SELECT session_id FROM live)),
            (SELECT count(DISTINCT install_id) FROM life WHERE name = '{EventConventions.StartupEvent}')
        """;

    /// <summary>Rows: route, method, requests, errors, installs, then one column per histogram bucket.</summary>
    public string Routes
    {
        get
        {
            var perBuckets = string.Join(", ", Buckets.Select((b, i) => $"sum(coalesce({integer(b)}, 0)) AS b{i}"));
            var foldedBuckets = string.Join(", ", Buckets.Select((_, i) => $"CAST(sum(per.b{i}) AS BIGINT)"));
            return $"""
                WITH per AS (
                    SELECT coalesce({text(EventConventions.Route)}, '{Unknown}') AS route, coalesce({text(EventConventions.Method)}, '{Unknown}') AS method, install_id,
                           sum(coalesce({integer(EventConventions.RequestCount)}, 0)) AS requests,
                           sum(coalesce({integer(EventConventions.RequestErrors)}, 0)) AS errors, {perBuckets}
                    FROM {rows} AND name = '{EventConventions.HttpRequestsEvent}' GROUP BY 1, 2, 3),
                g AS (SELECT route, method, count(install_id) AS installs FROM per GROUP BY route, method)
                SELECT CASE WHEN g.installs >= {K} THEN per.route ELSE '{Other}' END AS r,
                       CASE WHEN g.installs >= {K} THEN per.method END AS m,
                       CAST(sum(per.requests) AS BIGINT), CAST(sum(per.errors) AS BIGINT), count(DISTINCT per.install_id), {foldedBuckets}
                FROM per JOIN g ON per.route = g.route AND per.method = g.method
                GROUP BY 1, 2
                """;
        }
    }

    /// <summary>Rows: error code, status, failed requests, installs (<c>http_error</c>).</summary>
    public string HttpErrors => $"""
        WITH per AS (
            SELECT coalesce({text(EventConventions.ErrorCode)}, '{Unknown}') AS code, coalesce({integer(EventConventions.Status)}, 0) AS status, install_id,
                   sum(coalesce({integer(EventConventions.RequestCount)}, 0)) AS requests
            FROM {rows} AND name = '{EventConventions.HttpErrorEvent}' GROUP BY 1, 2, 3),
        g AS (SELECT code, status, count(install_id) AS installs FROM per GROUP BY code, status)
        SELECT CASE WHEN g.installs >= {K} THEN per.code ELSE '{Other}' END AS c,
               CASE WHEN g.installs >= {K} THEN per.status END AS s,
               CAST(sum(per.requests) AS BIGINT), count(DISTINCT per.install_id)
        FROM per JOIN g ON per.code = g.code AND per.status = g.status
        GROUP BY 1, 2
        """;

    public string Errors => Groups("error_code", "count(*)", $"name = '{EventConventions.ErrorEvent}'");

    public string Clients => Groups(text(EventConventions.ClientKind), $"sum(coalesce({integer(EventConventions.RequestCount)}, 0))", $"name = '{EventConventions.HttpClientsEvent}'");

    public string Languages => Groups(text(EventConventions.Language), $"sum(coalesce({integer(EventConventions.RequestCount)}, 0))", $"name = '{EventConventions.HttpClientsEvent}'");

    public string ShutdownReasons => Groups(text(EventConventions.ShutdownReason), "count(*)", $"name = '{EventConventions.ShutdownEvent}'");

    /// <summary>Instances per cloud and region, from the context the SDK detected ("none" outside a cloud).</summary>
    public string Clouds => Groups(
        "coalesce(cloud, 'none') || CASE WHEN cloud_region IS NULL THEN '' ELSE '/' || cloud_region END",
        "count(DISTINCT session_id)", $"name IN ({ServiceEventNames}, '{EventConventions.HeartbeatEvent}')");

    /// <summary>Instances per platform: the cloud's platform (e.g. a function or container service),
    /// else the container kind, else "none".</summary>
    public string Platforms => Groups(
        "coalesce(cloud_platform, container, 'none')",
        "count(DISTINCT session_id)", $"name IN ({ServiceEventNames}, '{EventConventions.HeartbeatEvent}')");

    // Rows: label, count, installs; each value with fewer than k installs folded into "other".
    private string Groups(string key, string aggregate, string where) => $"""
        WITH per AS (
            SELECT coalesce(CAST({key} AS VARCHAR), '{Unknown}') AS k, install_id, {aggregate} AS n
            FROM {rows} AND {where} GROUP BY 1, 2),
        g AS (SELECT k, count(install_id) AS installs FROM per GROUP BY k)
        SELECT CASE WHEN g.installs >= {K} THEN per.k ELSE '{Other}' END AS label, CAST(sum(per.n) AS BIGINT), count(DISTINCT per.install_id)
        FROM per JOIN g ON per.k = g.k
        GROUP BY 1
        """;

    private static string Names(params string[] names) => string.Join(", ", names.Select(n => $"'{n}'"));

    /// <summary>Puts the answers together; <paramref name="rows"/> runs one of this class's queries (with the
    /// query's parameters and <c>k</c>) and returns its rows' values.</summary>
    public async Task<ServicesOverview> OverviewAsync(
        AnalyticsQuery query, int k, Func<string, Task<IReadOnlyList<object?[]>>> rows)
    {
        var events = (await rows(CountEvents))[0];
        var i = (await rows(Instances))[0];
        var instances = new ServiceInstances(query.To, Long(i[0]), Long(i[1]), Long(i[2]),
            Long(i[3]) >= k ? Double(i[5]) : null, Long(i[3]) >= k ? Double(i[6]) : null, Long(i[4]) >= k ? Double(i[7]) : null,
            Long(i[8]), Long(i[9]));
        var routes = (await rows(Routes)).Select(ReadRoute)
            .OrderByDescending(r => r.Requests).ThenBy(r => r.Route, StringComparer.Ordinal).ThenBy(r => r.Method, StringComparer.Ordinal).ToList();
        var httpErrors = (await rows(HttpErrors)).Select(r => new ServiceErrorRow((string)r[0]!, r[1] is null ? null : Long(r[1]), Long(r[2]), Long(r[3])))
            .OrderByDescending(r => r.Requests).ThenBy(r => r.ErrorCode, StringComparer.Ordinal).ThenBy(r => r.Status).ToList();
        async Task<IReadOnlyList<ServiceGroupRow>> GroupsAsync(string sql) =>
            [.. (await rows(sql)).Select(r => new ServiceGroupRow((string)r[0]!, Long(r[1]), Long(r[2])))
                .OrderByDescending(r => r.Count).ThenBy(r => r.Label, StringComparer.Ordinal)];
        return new ServicesOverview(
            Long(events[0]), Long(events[1]), instances, routes, httpErrors,
            await GroupsAsync(Errors), await GroupsAsync(Clients), await GroupsAsync(Languages),
            await GroupsAsync(Clouds), await GroupsAsync(Platforms),
            await GroupsAsync(ShutdownReasons));
    }

    private static RouteRow ReadRoute(object?[] r)
    {
        var requests = Long(r[2]);
        var errors = Long(r[3]);
        var buckets = r.Skip(5).Select(Long).ToArray();
        return new RouteRow((string)r[0]!, (string?)r[1], requests, errors, requests == 0 ? 0 : (double)errors / requests, Long(r[4]),
            Percentile(buckets, 0.5), Percentile(buckets, 0.95));
    }

    /// <summary>The upper bound of the bucket in which the cumulative share of requests reaches
    /// <paramref name="fraction"/>; "&gt;10000" for the overflow bucket; null without any request.</summary>
    public static string? Percentile(IReadOnlyList<long> buckets, double fraction)
    {
        var total = buckets.Sum();
        if (total == 0)
        {
            return null;
        }

        long cumulative = 0;
        for (var i = 0; i < buckets.Count; i++)
        {
            cumulative += buckets[i];
            if (cumulative >= fraction * total)
            {
                return i < EventConventions.DurationBuckets.Count
                    ? EventConventions.DurationBuckets[i].ToString(CultureInfo.InvariantCulture)
                    : ">" + EventConventions.DurationBuckets[^1].ToString(CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    private static long Long(object? value) => value is null or DBNull ? 0 : Convert.ToInt64(value, CultureInfo.InvariantCulture);

    private static double? Double(object? value) => value is null or DBNull ? null : Convert.ToDouble(value, CultureInfo.InvariantCulture);
}
