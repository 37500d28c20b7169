using System.Text.Json.Serialization.Metadata;
using Candor.Collector.Security;

namespace Candor.Collector.Analytics;

/// <summary>
/// <c>/v1/admin/analytics/*</c>: the analytics API behind the admin token. Every answer takes the
/// common query (product, from, to, version, os, ci, country, command); see <see cref="AnalyticsQuery"/>.
/// </summary>
internal static class AnalyticsEndpoints
{
    public const string InvalidQuery = "invalid_query";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/admin/analytics").RequireAdminToken().RefuseUnstorableQuery();
        var json = AnalyticsJsonContext.Default;

        group.MapGet("/products", async (IAnalyticsStore store, CancellationToken ct) =>
            Results.Json(await store.ProductsAsync(ct), json.IReadOnlyListString));

        MapQuery(group, "/summary", json.Summary, (s, q, _, _, ct) => s.SummaryAsync(q, ct));
        MapQuery(group, "/active", json.IReadOnlyListSeriesPoint, (s, q, http, _, ct) => s.ActiveInstallsAsync(q, IntervalOf(http), ct));
        MapQuery(group, "/new-installs", json.IReadOnlyListSeriesPoint, (s, q, http, _, ct) => s.NewInstallsAsync(q, IntervalOf(http), ct));
        // Retention as of the end of the range (or now, if sooner): later activity does not count.
        MapQuery(group, "/retention", json.RetentionFigures, (s, q, http, _, ct) =>
            s.RetentionAsync(q, Min(q.To, http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow()), ct));
        MapQuery(group, "/installs", json.IReadOnlyListInstallActivity, (s, q, http, _, ct) =>
            s.InstallsAsync(q, Math.Clamp(int.TryParse(http.Request.Query["limit"], out var l) ? l : 100, 1, 1000), ct));
        MapQuery(group, "/versions", json.IReadOnlyListSeriesBreakdownPoint, (s, q, http, k, ct) => s.VersionAdoptionAsync(q, IntervalOf(http), k, ct));
        MapQuery(group, "/commands", json.IReadOnlyListCommandRow, (s, q, _, k, ct) => s.CommandsAsync(q, k, ct));
        MapQuery(group, "/operations", json.IReadOnlyListCommandRow, (s, q, _, k, ct) => s.OperationsAsync(q, k, ct));
        // Live instances are judged at the end of the range: no later than now.
        MapQuery(group, "/services", json.ServicesOverview, (s, q, http, k, ct) =>
            s.ServicesAsync(q with { To = Min(q.To, http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow()) }, k, ct));

        group.MapGet("/breakdown/{dimension}", (string dimension, HttpContext http, IAnalyticsStore store, AnalyticsOptions options, CancellationToken ct) =>
            Enum.TryParse<Dimension>(dimension.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
                ? RunAsync(http, json.IReadOnlyListBreakdownRow, q => store.BreakdownAsync(q, parsed, options.MinimumGroupSize, ct))
                : Task.FromResult(Invalid($"Unknown dimension '{dimension}'. Known: {string.Join(", ", Enum.GetNames<Dimension>().Select(Kebab))}.")));

        group.MapGet("/numeric", (HttpContext http, IAnalyticsStore store, CancellationToken ct) =>
        {
            var eventName = http.Request.Query["event"].ToString();
            var property = http.Request.Query["property"].ToString();
            return IsIdentifier(eventName) && IsIdentifier(property)
                ? RunAsync(http, json.NumericSummary, q => store.NumericAsync(q, eventName, property, ct))
                : Task.FromResult(Invalid("'event' and 'property' are required: letters, digits, '_', '-' and '.'."));
        });

        group.MapGet("/live", async (string product, IAnalyticsStore store, AnalyticsOptions options, TimeProvider time, CancellationToken ct) =>
            Results.Json(await store.LiveAsync(product, time.GetUtcNow() - options.LiveWindow, options.MinimumGroupSize, ct), json.LiveInstances));
    }

    private static void MapQuery<T>(
        RouteGroupBuilder group, string path, JsonTypeInfo<T> typeInfo,
        Func<IAnalyticsStore, AnalyticsQuery, HttpContext, int, CancellationToken, Task<T>> run) =>
        group.MapGet(path, (HttpContext http, IAnalyticsStore store, AnalyticsOptions options, CancellationToken ct) =>
            RunAsync(http, typeInfo, q => run(store, q, http, options.MinimumGroupSize, ct)));

    private static async Task<IResult> RunAsync<T>(HttpContext http, JsonTypeInfo<T> typeInfo, Func<AnalyticsQuery, Task<T>> run)
    {
        var (query, error) = AnalyticsQuery.FromRequest(http.Request.Query, http.RequestServices.GetRequiredService<TimeProvider>());
        return query is null ? Invalid(error!) : Results.Json(await run(query), typeInfo);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static Interval IntervalOf(HttpContext http) =>
        Enum.TryParse<Interval>(http.Request.Query["interval"], ignoreCase: true, out var interval) && Enum.IsDefined(interval) ? interval : Interval.Day;

    private static IResult Invalid(string message) => Operations.ErrorAnswers.Refuse(StatusCodes.Status400BadRequest, InvalidQuery, message);

    private static bool IsIdentifier(string value) =>
        value.Length is > 0 and <= 64 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    private static string Kebab(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
