using Candor.Collector.Operations;
using Candor.Protocol;

namespace Candor.Collector.Security;

/// <summary>Admits a request only with <c>Authorization: Bearer &lt;admin token&gt;</c>, and only from
/// an address that has not used up its failed attempts (<see cref="AdminFailureLimiter"/>).</summary>
internal static class AdminTokenFilter
{
    public static TBuilder RequireAdminToken<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var failures = http.RequestServices.GetRequiredService<AdminFailureLimiter>();
            var address = http.Connection.RemoteIpAddress;
            // Before the token is compared: a refused address learns nothing about any token it sends.
            if (failures.Refusal(address) is { } wait)
            {
                return RateLimits.Answer(http, wait, RateLimits.AdminScope);
            }

            if (!IsAdmin(http))
            {
                return failures.Failed(address) is { } waitAfterFailure
                    ? RateLimits.Answer(http, waitAfterFailure, RateLimits.AdminScope)
                    : ErrorAnswers.Refuse(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidAdminToken, "Send the admin token as 'Authorization: Bearer <token>'.");
            }

            // Asked again after the comparison: many guesses sent at once all pass the first check, and
            // the right one must not succeed once the wrong ones beside it have used up the allowance.
            return failures.Refusal(address) is { } waitAfterCheck
                ? RateLimits.Answer(http, waitAfterCheck, RateLimits.AdminScope)
                : await next(context);
        });

    public static bool IsAdmin(HttpContext http)
    {
        var credentials = http.RequestServices.GetRequiredService<Credentials>();
        var header = http.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        return credentials.IsAdminToken(token);
    }
}
