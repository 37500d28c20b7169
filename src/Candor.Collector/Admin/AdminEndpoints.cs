using Candor.Collector.Analytics;
using Candor.Collector.Security;
using Candor.Collector.Storage;

namespace Candor.Collector.Admin;

/// <summary>Read endpoints for operators, behind the admin token (<c>Authorization: Bearer …</c>).</summary>
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
}
