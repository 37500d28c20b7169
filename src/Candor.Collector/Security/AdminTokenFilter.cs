using Candor.Collector.Ingestion;
using Candor.Protocol;

namespace Candor.Collector.Security;

/// <summary>Admits a request only with <c>Authorization: Bearer &lt;admin token&gt;</c>.</summary>
internal static class AdminTokenFilter
{
    public static TBuilder RequireAdminToken<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
            IsAdmin(context.HttpContext)
                ? await next(context)
                : IngestEndpoint.Error(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidAdminToken, "Send the admin token as 'Authorization: Bearer <token>'."));

    public static bool IsAdmin(HttpContext http)
    {
        var credentials = http.RequestServices.GetRequiredService<Credentials>();
        var header = http.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        return credentials.IsAdminToken(token);
    }
}
