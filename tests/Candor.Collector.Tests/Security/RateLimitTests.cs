using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Candor.Collector.Tests.Security;

public sealed class RateLimitTests
{
    private const string OtherWriteKey = "wk_test_beta_0123456789abcdef";

    [Fact]
    public async Task OnceTheBurstIsSpentIngestIsAnswered429WithRetryAfterAndARateLimitedCode()
    {
        await using var collector = await TestCollector.StartAsync(settings: IngestLimit(perSecond: 1, burst: 3));

        // The bucket only fills at one request a second, so it runs dry long before 60 requests.
        var (accepted, refusal) = await PostUntilRefusedAsync(() => PostAsync(collector.Http, TestCollector.Batch(), TestCollector.WriteKey));

        using (refusal)
        {
            Assert.True(accepted >= 3, $"only {accepted} requests were accepted before the first refusal");
            Assert.Equal(HttpStatusCode.TooManyRequests, refusal.StatusCode);
            Assert.True(refusal.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {refusal.Headers.RetryAfter}");
            Assert.Equal("application/json", refusal.Content.Headers.ContentType?.MediaType);
            using var body = JsonDocument.Parse(await refusal.Content.ReadAsStringAsync());
            Assert.Equal("rate_limited", body.RootElement.GetProperty("code").GetString());
            Assert.NotEmpty(body.RootElement.GetProperty("message").GetString()!);
        }
    }

    [Fact]
    public async Task AnotherWriteKeyOrAnotherAddressKeepsItsOwnIngestAllowance()
    {
        await using var collector = await TestCollector.StartAsync(
            settings: [.. IngestLimit(perSecond: 1, burst: 2), $"--Candor:Products:beta:WriteKey={OtherWriteKey}"]);
        var (_, refusal) = await PostUntilRefusedAsync(() => PostAsync(collector.Http, TestCollector.Batch(), TestCollector.WriteKey));
        refusal.Dispose();

        // Same address, another product's key: it reaches the endpoint (beta has no schemas, so its
        // event is rejected as a whole: 422, not 429).
        using var otherKey = await PostAsync(collector.Http, TestCollector.Batch("beta"), OtherWriteKey);
        // Same key, another address.
        using var secondAddress = LoopbackClient.From("127.0.0.2", collector.Http.BaseAddress!);
        using var otherAddress = await PostAsync(secondAddress, TestCollector.Batch(), TestCollector.WriteKey);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, otherKey.StatusCode);
        Assert.Contains("no_valid_events", await otherKey.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, otherAddress.StatusCode);
    }

    [Fact]
    public async Task WithTheIngestLimitTurnedOffOneKeyAndAddressIsNeverRefused()
    {
        await using var collector = await TestCollector.StartAsync(settings: IngestLimit(perSecond: 0, burst: 1));

        for (var i = 0; i < 20; i++)
        {
            using var response = await PostAsync(collector.Http, "{}", TestCollector.WriteKey);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    [Fact]
    public async Task WrongAdminTokensLockTheirAddressOutEvenForTheRightTokenWhileAnotherAddressStillSignsIn()
    {
        await using var collector = await TestCollector.StartAsync(settings: ["--Candor:RateLimits:AdminFailuresPerMinute=3"]);
        using var secondAddress = LoopbackClient.From("127.0.0.2", collector.Http.BaseAddress!);

        // Requests with the right token do not use up the allowance.
        for (var i = 0; i < 10; i++)
        {
            using var ok = await AdminAsync(collector.Http, TestCollector.AdminToken);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        HttpStatusCode[] wrong = [.. await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            using var response = await AdminAsync(collector.Http, i % 2 == 0 ? "adm_wrong_0123456789abcdef" : null);
            return response.StatusCode;
        }))];
        using var rightButLockedOut = await AdminAsync(collector.Http, TestCollector.AdminToken);
        using var elsewhere = await AdminAsync(secondAddress, TestCollector.AdminToken);
        using var wrongElsewhere = await AdminAsync(secondAddress, "adm_wrong_0123456789abcdef");

        Assert.Equal(3, wrong.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(3, wrong.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(HttpStatusCode.TooManyRequests, rightButLockedOut.StatusCode);
        Assert.True(rightButLockedOut.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Contains("\"code\":\"rate_limited\"", await rightButLockedOut.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongElsewhere.StatusCode);
    }

    [Fact]
    public async Task RateLimitedAnswersAreCountedByScope()
    {
        await using var collector = await TestCollector.StartAsync(
            settings: [.. IngestLimit(perSecond: 1, burst: 1), "--Candor:RateLimits:AdminFailuresPerMinute=1"]);
        // Other tests in this process count in the same registry, so compare with what was there.
        var ingestBefore = await LoopbackClient.MetricAsync(collector.Http, "candor_rate_limited_total{scope=\"ingest\"}");
        var adminBefore = await LoopbackClient.MetricAsync(collector.Http, "candor_rate_limited_total{scope=\"admin\"}");

        var (_, refusal) = await PostUntilRefusedAsync(() => PostAsync(collector.Http, "{}", TestCollector.WriteKey));
        refusal.Dispose();
        (await AdminAsync(collector.Http, null)).Dispose();
        using var locked = await AdminAsync(collector.Http, null);

        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.True(await LoopbackClient.MetricAsync(collector.Http, "candor_rate_limited_total{scope=\"ingest\"}") >= ingestBefore + 1);
        Assert.True(await LoopbackClient.MetricAsync(collector.Http, "candor_rate_limited_total{scope=\"admin\"}") >= adminBefore + 1);
        // Labelled by scope only: never by the address or the key (forget and access: DataRights tests).
        var samples = (await collector.Http.GetStringAsync("/metrics")).Split('\n').Where(l => l.StartsWith("candor_rate_limited_total{", StringComparison.Ordinal));
        Assert.All(samples, l => Assert.Matches("^candor_rate_limited_total\\{scope=\"(ingest|admin|forget|access)\"\\} ", l));
    }

    [Theory]
    [InlineData("IngestRequestsPerSecond", -1)]
    [InlineData("IngestBurst", 0)]
    [InlineData("AdminFailuresPerMinute", -5)]
    [InlineData("ForgetRequestsPerMinute", -1)]
    [InlineData("AccessRequestsPerMinute", -1)]
    public void ARateLimitOutOfRangeStopsTheCollectorAtStartup(string name, int value)
    {
        var options = new CollectorOptions();
        typeof(Candor.Collector.Security.RateLimitOptions).GetProperty(name)!.SetValue(options.RateLimits, value);

        Assert.Contains(options.Validate(), e => e.Contains($"Candor:RateLimits:{name}", StringComparison.Ordinal));
        Assert.Empty(new CollectorOptions().Validate());
    }

    private static string[] IngestLimit(int perSecond, int burst) =>
        [$"--Candor:RateLimits:IngestRequestsPerSecond={perSecond}", $"--Candor:RateLimits:IngestBurst={burst}"];

    /// <summary>Posts until the first 429 (at most 60 times): how many were not refused, and the refusal.</summary>
    private static async Task<(int NotRefused, HttpResponseMessage Refusal)> PostUntilRefusedAsync(Func<Task<HttpResponseMessage>> post)
    {
        for (var sent = 0; sent < 60; sent++)
        {
            var response = await post();
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                return (sent, response);
            }

            response.Dispose();
        }

        throw new Xunit.Sdk.XunitException("60 requests in a row were never refused");
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string json, string writeKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Candor-Write-Key", writeKey);
        return await client.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> AdminAsync(HttpClient client, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/events?product=acme&limit=1");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await client.SendAsync(request);
    }
}
