namespace Candor.Collector.Security;

/// <summary>Admits a request only with <c>Authorization: Bearer &lt;admin token&gt;</c>, and only from
/// an address that has not used up its failed attempts (<see cref="AdminFailureLimiter"/>). The viewer
/// token is answered 403 <c>admin_only</c> (see <see cref="ReaderTokenFilter"/>).</summary>
internal static class AdminTokenFilter
{
    public static TBuilder RequireAdminToken<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter((context, next) => ReaderTokenFilter.AdmitAsync(context, next, adminOnly: true));
}
