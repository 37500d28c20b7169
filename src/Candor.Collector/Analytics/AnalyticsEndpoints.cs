using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Candor.Collector.Security;

namespace Candor.Collector.Analytics;

/// <summary>
/// <c>/v1/admin/analytics/*</c>: the analytics API behind the admin or the viewer token. Every answer
/// takes the common query (product, from, to, version, os, ci, country, command); see
/// <see cref="AnalyticsQuery"/>. Under the viewer token every answer passes through
/// <see cref="KAnonymity"/>, and the per-install list (<c>/installs</c>) is the admin's only.
/// </summary>
internal static class AnalyticsEndpoints
{
    public const string InvalidQuery = "invalid_query";

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/admin/analytics").RequireReaderToken().RefuseUnstorableQuery();
        var json = AnalyticsJsonContext.Default;

        // Which reader the token names, and the k its answers are k-anonymous by.
        group.MapGet("/role", (HttpContext http, AnalyticsOptions options) => Results.Json(
            new ReaderAnswer(ReaderTokenFilter.RoleOf(http) == ReaderRole.Admin ? "admin" : "viewer", options.MinimumGroupSize), json.ReaderAnswer));

        group.MapGet("/products", async (IAnalyticsStore store, CancellationToken ct) =>
            Results.Json(await store.ProductsAsync(ct), json.IReadOnlyListString));

        MapQuery(group, "/summary", json.Summary, (a, r) => a.Summary(r), (s, q, _, _, ct) => s.SummaryAsync(q, ct));
        MapQuery(group, "/active", json.IReadOnlyListSeriesPoint, (a, r) => a.Series(r), (s, q, http, _, ct) => s.ActiveInstallsAsync(q, IntervalOf(http), ct));
        MapQuery(group, "/new-installs", json.IReadOnlyListSeriesPoint, (a, r) => a.Series(r), (s, q, http, _, ct) => s.NewInstallsAsync(q, IntervalOf(http), ct));
        // Retention as of the end of the range (or now, if sooner): later activity does not count.
        MapQuery(group, "/retention", json.RetentionFigures, (a, r) => a.Retention(r), (s, q, http, _, ct) =>
            s.RetentionAsync(q, Min(q.To, http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow()), ct));
        // Install ids: never under the viewer token (no k-anonymous form of a list of installs).
        MapQuery(group, "/installs", json.IReadOnlyListInstallActivity, null, (s, q, http, _, ct) =>
            s.InstallsAsync(q, Math.Clamp(int.TryParse(http.Request.Query["limit"], out var l) ? l : 100, 1, 1000), ct)).RequireAdminRole();
        MapQuery(group, "/versions", json.IReadOnlyListSeriesBreakdownPoint, (a, r) => a.Versions(r), (s, q, http, k, ct) => s.VersionAdoptionAsync(q, IntervalOf(http), k, ct));
        MapQuery(group, "/commands", json.IReadOnlyListCommandRow, (a, r) => a.Runs(r), (s, q, _, k, ct) => s.CommandsAsync(q, k, ct));
        MapQuery(group, "/operations", json.IReadOnlyListCommandRow, (a, r) => a.Runs(r), (s, q, _, k, ct) => s.OperationsAsync(q, k, ct));
        // Live instances are judged at the end of the range: no later than now.
        MapQuery(group, "/services", json.ServicesOverview, (a, r) => a.Services(r), (s, q, http, k, ct) =>
            s.ServicesAsync(q with { To = Min(q.To, http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow()) }, k, ct));

        group.MapGet("/breakdown/{dimension}", (string dimension, HttpContext http, IAnalyticsStore store, AnalyticsOptions options, CancellationToken ct) =>
            Enum.TryParse<Dimension>(dimension.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
                ? RunAsync(http, options, json.IReadOnlyListBreakdownRow, (a, r) => a.Breakdown(r), q => store.BreakdownAsync(q, parsed, options.MinimumGroupSize, ct))
                : Task.FromResult(Invalid($"Unknown dimension '{dimension}'. Known: {string.Join(", ", Enum.GetNames<Dimension>().Select(Kebab))}.")));

        group.MapGet("/numeric", (HttpContext http, IAnalyticsStore store, AnalyticsOptions options, CancellationToken ct) =>
        {
            var eventName = http.Request.Query["event"].ToString();
            var property = http.Request.Query["property"].ToString();
            return IsIdentifier(eventName) && IsIdentifier(property)
                ? RunAsync(http, options, json.NumericSummary, (a, r) => a.Numeric(r), q => store.NumericAsync(q, eventName, property, ct))
                : Task.FromResult(Invalid("'event' and 'property' are required: letters, digits, '_', '-' and '.'."));
        });

        group.MapGet("/live", async (string product, HttpContext http, IAnalyticsStore store, AnalyticsOptions options, TimeProvider time, CancellationToken ct) =>
            Answer(http, options, json.LiveInstances, (a, r) => a.Live(r),
                await store.LiveAsync(product, time.GetUtcNow() - options.LiveWindow, options.MinimumGroupSize, ct)));
    }

    private static RouteHandlerBuilder MapQuery<T>(
        RouteGroupBuilder group, string path, JsonTypeInfo<T> typeInfo, Func<KAnonymity, T, JsonNode>? anonymize,
        Func<IAnalyticsStore, AnalyticsQuery, HttpContext, int, CancellationToken, Task<T>> run) =>
        group.MapGet(path, (HttpContext http, IAnalyticsStore store, AnalyticsOptions options, CancellationToken ct) =>
            RunAsync(http, options, typeInfo, anonymize, q => run(store, q, http, options.MinimumGroupSize, ct)));

    private static async Task<IResult> RunAsync<T>(
        HttpContext http, AnalyticsOptions options, JsonTypeInfo<T> typeInfo, Func<KAnonymity, T, JsonNode>? anonymize, Func<AnalyticsQuery, Task<T>> run)
    {
        var (query, error) = AnalyticsQuery.FromRequest(http.Request.Query, http.RequestServices.GetRequiredService<TimeProvider>());
        return query is null ? Invalid(error!) : Answer(http, options, typeInfo, anonymize, await run(query));
    }

    // The store's answer as it is for the admin; through KAnonymity for the viewer. An endpoint
    // without a k-anonymous form is behind RequireAdminRole, and refuses here too if that is forgotten.
    private static IResult Answer<T>(HttpContext http, AnalyticsOptions options, JsonTypeInfo<T> typeInfo, Func<KAnonymity, T, JsonNode>? anonymize, T result) =>
        ReaderTokenFilter.RoleOf(http) == ReaderRole.Admin
            ? Results.Json(result, typeInfo)
            : anonymize is null
                ? throw new InvalidOperationException("An answer without a k-anonymous form reached the viewer.")
                : Results.Json(anonymize(new KAnonymity(options.MinimumGroupSize), result), AnalyticsJsonContext.Default.JsonNode);

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static Interval IntervalOf(HttpContext http) =>
        Enum.TryParse<Interval>(http.Request.Query["interval"], ignoreCase: true, out var interval) && Enum.IsDefined(interval) ? interval : Interval.Day;

    private static IResult Invalid(string message) => Operations.ErrorAnswers.Refuse(StatusCodes.Status400BadRequest, InvalidQuery, message);

    private static bool IsIdentifier(string value) =>
        value.Length is > 0 and <= 64 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    private static string Kebab(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
