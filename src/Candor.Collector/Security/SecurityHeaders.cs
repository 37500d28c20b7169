namespace Candor.Collector.Security;

/// <summary>
/// Browser security headers. Every answer gets <c>X-Content-Type-Options: nosniff</c>; answers a
/// browser runs or renders (HTML, JavaScript: the dashboard and its assets) also get a strict
/// Content-Security-Policy, <c>X-Frame-Options: DENY</c> and <c>Referrer-Policy: no-referrer</c>, so the
/// dashboard can be neither framed (clickjacking the sign-in) nor made to run or load anything but
/// its own files.
/// </summary>
internal static class SecurityHeaders
{
    /// <summary>Only the dashboard's own scripts and stylesheet, its calls to the API on the same
    /// origin, and nothing else: no inline script or style, no framing, no other origin.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((http, next) =>
        {
            // On starting, when the endpoint has chosen its content type (and after an error answer
            // replaced the response, which clears headers set earlier).
            http.Response.OnStarting(Apply, http.Response);
            return next(http);
        });

    private static Task Apply(object state)
    {
        var response = (HttpResponse)state;
        var headers = response.Headers;
        headers.XContentTypeOptions = "nosniff";
        if (IsActiveContent(response.ContentType))
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
        }

        return Task.CompletedTask;
    }

    private static bool IsActiveContent(string? contentType) =>
        contentType is not null && (contentType.StartsWith("text/html", StringComparison.OrdinalIgnoreCase)
            || contentType.Contains("javascript", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("image/svg", StringComparison.OrdinalIgnoreCase));
}
