using Candor.Collector.Operations;
using Candor.Protocol;

namespace Candor.Collector.Security;

/// <summary>Who reads: the admin (everything) or the viewer (the analytics API only, every answer
/// k-anonymous; see Analytics/KAnonymity.cs).</summary>
internal enum ReaderRole
{
    Admin,
    Viewer,
}

/// <summary>
/// Admits a request with <c>Authorization: Bearer &lt;token&gt;</c> naming a reader, from an address
/// that has not used up its failed attempts (<see cref="AdminFailureLimiter"/>, shared with every
/// read endpoint), and records the reader's role for the endpoint. Where only the admin may read, the
/// viewer token is answered 403 <c>admin_only</c>: it is a valid token (not a failed attempt), just
/// not one for this endpoint.
/// </summary>
internal static class ReaderTokenFilter
{
    private const string RoleItem = "candor.reader-role";

    /// <summary>Admits the admin and the viewer.</summary>
    public static TBuilder RequireReaderToken<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter((context, next) => AdmitAsync(context, next, adminOnly: false));

    /// <summary>On an endpoint inside a group under <see cref="RequireReaderToken"/>: refuses the
    /// viewer (403 <c>admin_only</c>).</summary>
    public static TBuilder RequireAdminRole<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
            RoleOf(context.HttpContext) == ReaderRole.Admin ? await next(context) : AdminOnly());

    /// <summary>The role the filter admitted the request with.</summary>
    public static ReaderRole RoleOf(HttpContext http) =>
        http.Items.TryGetValue(RoleItem, out var role) && role is ReaderRole admitted
            ? admitted
            : throw new InvalidOperationException("The endpoint is not behind the reader token filter.");

    internal static async ValueTask<object?> AdmitAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, bool adminOnly)
    {
        var http = context.HttpContext;
        var failures = http.RequestServices.GetRequiredService<AdminFailureLimiter>();
        var address = http.Connection.RemoteIpAddress;
        // Before the token is compared: a refused address learns nothing about any token it sends.
        if (failures.Refusal(address) is { } wait)
        {
            return RateLimits.Answer(http, wait, RateLimits.AdminScope);
        }

        if (PresentedRole(http) is not { } role)
        {
            return failures.Failed(address) is { } waitAfterFailure
                ? RateLimits.Answer(http, waitAfterFailure, RateLimits.AdminScope)
                : ErrorAnswers.Refuse(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidAdminToken,
                    adminOnly ? "Send the admin token as 'Authorization: Bearer <token>'." : "Send the admin or viewer token as 'Authorization: Bearer <token>'.");
        }

        // Asked again after the comparison: many guesses sent at once all pass the first check, and
        // the right one must not succeed once the wrong ones beside it have used up the allowance.
        if (failures.Refusal(address) is { } waitAfterCheck)
        {
            return RateLimits.Answer(http, waitAfterCheck, RateLimits.AdminScope);
        }

        if (adminOnly && role != ReaderRole.Admin)
        {
            return AdminOnly();
        }

        http.Items[RoleItem] = role;
        return await next(context);
    }

    private static IResult AdminOnly() =>
        ErrorAnswers.Refuse(StatusCodes.Status403Forbidden, ErrorCodes.AdminOnly, "Only the admin token reads this; the viewer token reads the analytics API.");

    private static ReaderRole? PresentedRole(HttpContext http)
    {
        var credentials = http.RequestServices.GetRequiredService<Credentials>();
        var header = http.Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        return credentials.RoleOf(token);
    }
}
