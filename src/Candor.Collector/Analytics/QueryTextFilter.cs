namespace Candor.Collector.Analytics;

/// <summary>
/// Refuses a read whose query string holds text no store keeps (U+0000, the rule of
/// Ingestion/TextRules.cs, checked here on its own so the read side needs nothing from ingest): no
/// filter could match it, and PostgreSQL refuses it as a parameter (a 500 otherwise). One filter on
/// every admin and analytics route group, so no endpoint has to remember the rule.
/// </summary>
internal static class QueryTextFilter
{
    public static RouteGroupBuilder RefuseUnstorableQuery(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            foreach (var (_, value) in context.HttpContext.Request.Query)
            {
                if (value.ToString().Contains('\0', StringComparison.Ordinal))
                {
                    return Operations.ErrorAnswers.Refuse(StatusCodes.Status400BadRequest, AnalyticsEndpoints.InvalidQuery, "Query parameters must not hold U+0000.");
                }
            }

            return await next(context);
        });
        return group;
    }
}
