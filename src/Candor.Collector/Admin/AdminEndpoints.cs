using Candor.Collector.Analytics;
using Candor.Collector.Security;
using Candor.Collector.Storage;

namespace Candor.Collector.Admin;

/// <summary>Read endpoints for operators, behind the admin token (<c>Authorization: Bearer …</c>); the
/// viewer token is answered 403 <c>admin_only</c> here (raw events and quarantine are not k-anonymous).</summary>
internal static class AdminEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/v1/admin").RequireAdminToken().RefuseUnstorableQuery();

        admin.MapGet("/events", async (string product, int? limit, IEventQuery store, CancellationToken cancellationToken) =>
        {
            var events = await store.ReadRecentAsync(product, Math.Clamp(limit ?? 100, 1, 10_000), cancellationToken);
            return Results.Json(events, CollectorJsonContext.Default.IReadOnlyListStoredEvent);
        });

        admin.MapGet("/quarantine", async (string product, int? limit, IEventQuery store, CancellationToken cancellationToken) =>
        {
            var rejected = await store.ReadQuarantineAsync(product, Math.Clamp(limit ?? 100, 1, 10_000), cancellationToken);
            return Results.Json(rejected, CollectorJsonContext.Default.IReadOnlyListQuarantineRecord);
        });
    }

    /// <summary><c>/v1/admin/analytics/quarantine</c>: rejected events by reason code and by schema, for
    /// the product and date range of the analytics API's common query (by arrival; the other filters do
    /// not apply, since a rejected event was never attributed). Read from the event store, so it answers
    /// on every storage engine; here rather than with the analytics endpoints, which see only the
    /// analytics store.</summary>
    public static void MapQuarantineSummary(IEndpointRouteBuilder endpoints) =>
        endpoints.MapGroup("/v1/admin/analytics").RequireAdminToken().RefuseUnstorableQuery().MapGet("/quarantine", async (HttpContext http, IEventQuery store, CancellationToken ct) =>
        {
            var (query, error) = AnalyticsQuery.FromRequest(http.Request.Query, http.RequestServices.GetRequiredService<TimeProvider>());
            return query is null
                ? Operations.ErrorAnswers.Refuse(StatusCodes.Status400BadRequest, AnalyticsEndpoints.InvalidQuery, error!)
                : Results.Json(await store.SummarizeQuarantineAsync(query.Product, query.From, query.To, ct), CollectorJsonContext.Default.QuarantineSummary);
        });
}
