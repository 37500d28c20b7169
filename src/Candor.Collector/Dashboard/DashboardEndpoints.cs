namespace Candor.Collector.Dashboard;

/// <summary>
/// Serves the dashboard at <c>/</c>. Its files (and the charting library from npm) are embedded in
/// the collector assembly at build time, so the dashboard works offline and from any directory.
/// The page itself is public; every figure on it comes from the admin API behind the token.
/// </summary>
internal static class DashboardEndpoints
{
    private const string Prefix = "dashboard/";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
    };

    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", () => Asset("index.html"));
        endpoints.MapGet("/dashboard/{name}", (string name) => Asset(name));
    }

    private static IResult Asset(string name)
    {
        var stream = typeof(DashboardEndpoints).Assembly.GetManifestResourceStream(Prefix + name);
        if (stream is null || !ContentTypes.TryGetValue(Path.GetExtension(name), out var contentType))
        {
            stream?.Dispose();
            return Results.NotFound();
        }

        return Results.Stream(stream, contentType);
    }

    /// <summary>Whether the charting library was bundled (it comes from npm at build time).</summary>
    public static bool HasChartLibrary =>
        typeof(DashboardEndpoints).Assembly.GetManifestResourceInfo(Prefix + "chart.umd.js") is not null;
}
