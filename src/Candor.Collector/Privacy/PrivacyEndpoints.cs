using System.Text.Json;
using Candor.Collector.Ingestion;
using Candor.Protocol;
using Microsoft.Net.Http.Headers;

namespace Candor.Collector.Privacy;

/// <summary>
/// The public privacy page: <c>GET /privacy/{product}</c>, no token. HTML by default; the same content
/// as JSON when the request's <c>Accept</c> prefers <c>application/json</c> (content negotiation, not a
/// <c>.json</c> suffix, because product names may contain dots). docs/privacy-page.md.
/// </summary>
internal static class PrivacyEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/privacy/{product}", Answer);
        endpoints.MapGet(PrivacyHtml.StyleSheetPath, () => Results.Text(PrivacyHtml.StyleSheet, "text/css; charset=utf-8"));
        endpoints.MapGet(PrivacyHtml.IconPath, () => Results.Text(PrivacyHtml.Icon, "image/svg+xml; charset=utf-8"));
    }

    private static IResult Answer(string product, HttpContext http, CollectorOptions options, Schemas.SchemaRegistry registry)
    {
        // Both forms live at one address: caches must keep them apart.
        http.Response.Headers.Vary = HeaderNames.Accept;
        if (!ProductName.IsValid(product))
        {
            return Error(StatusCodes.Status400BadRequest, ErrorCodes.InvalidProduct, ProductName.Rule);
        }

        var page = new PrivacyPage(registry, options).Build(product);
        if (page is null)
        {
            return Error(StatusCodes.Status404NotFound, ErrorCodes.NotFound, $"This collector has no product named '{product}'.");
        }

        return WantsJson(http.Request)
            ? Results.Text(JsonSerializer.Serialize(page, PrivacyJsonContext.Default.PrivacyDocument), "application/json; charset=utf-8")
            : Results.Text(PrivacyHtml.Render(page), "text/html; charset=utf-8");
    }

    /// <summary>JSON when <c>Accept</c> rates <c>application/json</c> above <c>text/html</c>; HTML
    /// otherwise (browsers, <c>*/*</c>, no header).</summary>
    internal static bool WantsJson(HttpRequest request)
    {
        double json = 0, html = 0;
        foreach (var accepted in request.GetTypedHeaders().Accept)
        {
            var quality = accepted.Quality ?? 1;
            if (accepted.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            {
                json = Math.Max(json, quality);
            }
            else if (accepted.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase))
            {
                html = Math.Max(html, quality);
            }
        }

        return json > html;
    }

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new ErrorResponse { Code = code, Message = message }, ProtocolJsonContext.Default.ErrorResponse, statusCode: status);
}
