using System.Net;

namespace Candor.Collector.Tests.Security;

public sealed class SecurityHeadersTests
{
    [Theory]
    [InlineData("/", "text/html")]
    [InlineData("/dashboard/app.js", "text/javascript")]
    [InlineData("/dashboard/chart.umd.js", "text/javascript")]
    public async Task TheDashboardAndItsScriptsForbidFramingInlineCodeAndOtherOrigins(string path, string mediaType)
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.Http.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        var policy = Assert.Single(response.Headers.GetValues("Content-Security-Policy"));
        var directives = policy.Split(';', StringSplitOptions.TrimEntries);
        Assert.Contains("frame-ancestors 'none'", directives);
        Assert.Contains("default-src 'none'", directives);
        Assert.Contains("script-src 'self'", directives);
        Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/v1/admin/events?product=acme")]
    [InlineData("/no/such/path")]
    public async Task EveryOtherAnswerIsMarkedNoSniff(string path)
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.Http.GetAsync(path);

        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }
}
