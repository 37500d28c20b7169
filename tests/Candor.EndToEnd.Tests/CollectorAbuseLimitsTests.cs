using System.Net;
using System.Net.Http.Headers;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// The collector process with its default limits against abuse from one address: the dashboard
/// cannot be framed, wrong admin tokens cannot be tried thousands of times a second, and one write
/// key cannot flood ingest without being answered 429.
/// </summary>
public sealed class CollectorAbuseLimitsTests
{
    [Fact]
    public async Task TheDashboardPageForbidsFramingAndEverythingButItsOwnScripts()
    {
        using var data = new TemporaryDirectory();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        using var client = new HttpClient { BaseAddress = collector.BaseAddress };

        using var page = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var policy = Assert.Single(page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.Equal("DENY", Assert.Single(page.Headers.GetValues("X-Frame-Options")));
        Assert.Equal("nosniff", Assert.Single(page.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(page.Headers.GetValues("Referrer-Policy")));
    }

    [Fact]
    public async Task AHundredWrongAdminTokensInARowAreAnswered429AfterTheAllowanceAndThenSoIsTheRightOne()
    {
        using var data = new TemporaryDirectory();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        using var client = new HttpClient { BaseAddress = collector.BaseAddress };

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 100; i++)
        {
            using var response = await AdminAsync(client, $"adm_guess_{i:D4}_0123456789abcdef");
            statuses.Add(response.StatusCode);
        }

        using var right = await AdminAsync(client, CollectorProcess.AdminToken);

        // The default allowance is 10 failures a minute: ten 401s, then nothing but 429s.
        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 10), statuses.Take(10));
        Assert.All(statuses.Skip(10), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        Assert.NotNull(right.Headers.RetryAfter?.Delta);
        Assert.Contains("\"code\":\"rate_limited\"", await right.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(91, await MetricAsync(client, "candor_rate_limited_total{scope=\"admin\"}"));
    }

    [Fact]
    public async Task AFloodFromOneWriteKeyAndAddressIsAnswered429()
    {
        using var data = new TemporaryDirectory();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        using var client = new HttpClient { BaseAddress = collector.BaseAddress };
        using var stop = new CancellationTokenSource();
        var accepted = 0;
        HttpResponseMessage? refusal = null;

        // Eight senders at once, as fast as the collector answers, until the first 429. The default
        // allows bursts of 200 and then 100 requests a second: 20,000 requests never refused would
        // mean no limit at all.
        try
        {
            await Parallel.ForAsync(0, 20_000, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = stop.Token }, async (_, _) =>
            {
                // Not cancelled with the loop: a request already sent is answered and counted.
                var response = await CollectorHttp.PostAsync(client, CollectorHttp.Batch([Guid.CreateVersion7()]), cancellationToken: CancellationToken.None);
                if (response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    if (Interlocked.CompareExchange(ref refusal, response, null) is null)
                    {
                        await stop.CancelAsync();
                        return;
                    }
                }
                else
                {
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    Interlocked.Increment(ref accepted);
                }

                response.Dispose();
            });
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        Assert.NotNull(refusal);
        using (refusal)
        {
            Assert.True(accepted >= 200, $"only {accepted} requests were accepted: fewer than the burst");
            Assert.True(refusal.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.Contains("\"code\":\"rate_limited\"", await refusal.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.True(await MetricAsync(client, "candor_rate_limited_total{scope=\"ingest\"}") >= 1);
    }

    private static async Task<double> MetricAsync(HttpClient client, string sample)
    {
        var line = (await client.GetStringAsync("/metrics")).Split('\n').Single(l => l.StartsWith(sample + " ", StringComparison.Ordinal));
        return double.Parse(line[(sample.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<HttpResponseMessage> AdminAsync(HttpClient client, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/events?product=acme&limit=1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request);
    }
}
