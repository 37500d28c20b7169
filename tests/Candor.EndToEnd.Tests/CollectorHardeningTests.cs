using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// One client must never hurt the collector or other clients: each test reproduces an input an
/// outside probe used to break the collector, on the real process, against each store it applies to.
/// </summary>
public sealed class CollectorHardeningTests
{
    // These tests send hundreds of requests from one key and address on purpose; the rate limit
    // would answer some 429 (CollectorAbuseLimitsTests covers it).
    private static Dictionary<string, string?> NoIngestLimit => new() { ["Candor__RateLimits__IngestRequestsPerSecond"] = "0" };

    private static string Now => DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("duckdb")]
    [InlineData("postgres")]
    public async Task RejectedEventsWithHugeNamesAreAnsweredAndLeaveTheStoreHealthyAcrossARestart(string store)
    {
        await using var server = await StorageUnderTest.StartAsync(store);
        using var data = new TemporaryDirectory();
        var huge = new string('n', 900_000);
        await using (var collector = await CollectorProcess.StartAsync(data.Path, server.Environment(NoIngestLimit)))
        {
            using var client = new HttpClient { BaseAddress = collector.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            var statuses = new ConcurrentBag<HttpStatusCode>();
            // 4 at a time, as the probe sent them: their rejections used to share one oversized journal group.
            await Parallel.ForAsync(0, 200, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
            {
                var field = i % 2 == 0 ? "name" : "version";
                var json = $$"""{"sent_at":"{{Now}}","context":{"product":"acme","session_id":"{{Guid.NewGuid()}}"},"events":[{"id":"{{Guid.NewGuid()}}","name":"command","version":"1-0-0","time":"{{Now}}"}]}"""
                    .Replace($"\"{field}\":\"{(field == "name" ? "command" : "1-0-0")}\"", $"\"{field}\":\"{huge}\"", StringComparison.Ordinal);
                using var response = await CollectorHttp.PostAsync(client, json, cancellationToken: ct);
                statuses.Add(response.StatusCode);
            });

            Assert.All(statuses, s => Assert.True((int)s is >= 400 and < 500, $"answered {(int)s}"));
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode);
            using var admin = collector.CreateAdminClient();
            using var quarantine = await admin.GetAsync(new Uri("/v1/admin/quarantine?product=acme&limit=1000", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, quarantine.StatusCode);
            var body = await quarantine.Content.ReadAsStringAsync();
            // What the quarantine keeps of each is an excerpt: 200 rows of a few kilobytes at most.
            Assert.True(body.Length < 200 * 6_000, $"the quarantine answer is {body.Length} characters");
        }

        await using var restarted = await CollectorProcess.StartAsync(data.Path, server.Environment(NoIngestLimit));
        using var after = new HttpClient { BaseAddress = restarted.BaseAddress };
        using var valid = await CollectorHttp.PostAsync(after, CollectorHttp.Batch([Guid.NewGuid()]));
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await after.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode);
    }

    [Theory]
    [InlineData("duckdb")]
    [InlineData("postgres")]
    public async Task ANulCharacterIsRefusedWithACodeAndNeverFailsAnotherClientsBatch(string store)
    {
        await using var server = await StorageUnderTest.StartAsync(store);
        using var data = new TemporaryDirectory();
        await using var collector = await CollectorProcess.StartAsync(data.Path, server.Environment(NoIngestLimit));
        using var client = new HttpClient { BaseAddress = collector.BaseAddress };
        var nulInContext = CollectorHttp.Batch([Guid.NewGuid()]).Replace("\"os_family\":\"linux\"", "\"os_family\":\"linux\",\"os_version\":\"a\\u0000b\"", StringComparison.Ordinal);
        var nulInProperty = CollectorHttp.Batch([Guid.NewGuid()]).Replace("\"command\":\"run\"", "\"command\":\"r\\u0000n\"", StringComparison.Ordinal);

        var good = new ConcurrentBag<Guid>();
        var goodStatuses = new ConcurrentBag<HttpStatusCode>();
        var badStatuses = new ConcurrentBag<(HttpStatusCode, string)>();
        await Task.WhenAll(
            Parallel.ForAsync(0, 150, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, ct) =>
            {
                using var response = await CollectorHttp.PostAsync(client, i % 2 == 0 ? nulInContext : nulInProperty, cancellationToken: ct);
                badStatuses.Add((response.StatusCode, await response.Content.ReadAsStringAsync(ct)));
            }),
            Parallel.ForAsync(0, 150, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (_, ct) =>
            {
                Guid[] ids = [Guid.NewGuid(), Guid.NewGuid()];
                using var response = await CollectorHttp.PostAsync(client, CollectorHttp.Batch(ids), cancellationToken: ct);
                goodStatuses.Add(response.StatusCode);
                if (response.IsSuccessStatusCode)
                {
                    foreach (var id in ids)
                    {
                        good.Add(id);
                    }
                }
            }));

        Assert.All(goodStatuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.All(badStatuses, b => Assert.True(
            (b.Item1 == HttpStatusCode.BadRequest || b.Item1 == HttpStatusCode.UnprocessableEntity) && b.Item2.Contains("invalid_text", StringComparison.Ordinal),
            $"{(int)b.Item1}: {b.Item2}"));
        var stored = (await collector.ReadEventsAsync(limit: 10_000)).Select(e => e.GetProperty("id").GetGuid()).ToHashSet();
        Assert.Superset(good.ToHashSet(), stored);
        Assert.Equal(good.Count, stored.Count);
    }

    [Theory]
    [InlineData("duckdb")]
    [InlineData("postgres")]
    public async Task InputsThatUsedToCrashARequestAreAnsweredWithAClientErrorAndACode(string store)
    {
        await using var server = await StorageUnderTest.StartAsync(store);
        using var data = new TemporaryDirectory();
        await using var collector = await CollectorProcess.StartAsync(data.Path, server.Environment(NoIngestLimit));
        using var client = new HttpClient { BaseAddress = collector.BaseAddress };
        var id = Guid.NewGuid();
        var valid = CollectorHttp.Batch([id]);
        string[] bodies =
        [
            Regex(valid, "\"sent_at\":\"[^\"]+\"", "\"sent_at\":\"9999-12-31T23:59:59Z\""),
            Regex(valid, "\"time\":\"[^\"]+\"", "\"time\":\"9999-12-31T23:59:59Z\""),
            Regex(valid, "\"time\":\"[^\"]+\"", "\"time\":\"0001-01-01T00:00:01Z\""),
            Regex(valid, "\"events\":\\[.*\\]", "\"events\":[null]"),
            valid.Replace("\"duration_ms\":7", "\"duration_ms\":1e400", StringComparison.Ordinal),
            valid.Replace("\"duration_ms\":7", "\"duration_ms\":-1e400", StringComparison.Ordinal),
            valid.Replace("\"product\":\"acme\"", "\"product\":\"ac me/../x\"", StringComparison.Ordinal),
            // Every context field at the documented limit: a PostgreSQL rollup's index row cannot hold them.
            valid.Replace("\"product_version\":\"1.4.0\"", Wide("product_version") + "," + Wide("os_version") + "," + Wide("runtime_version") + "," + Wide("architecture"), StringComparison.Ordinal),
        ];

        foreach (var body in bodies)
        {
            using var response = await CollectorHttp.PostAsync(client, body);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode is >= 400 and < 500, $"{(int)response.StatusCode} for {body[..Math.Min(body.Length, 300)]}: {text}");
            using var error = JsonDocument.Parse(text);
            Assert.False(string.IsNullOrEmpty(error.RootElement.GetProperty("code").GetString()));
        }

        // A chunk-size line that overflows, sent raw: Kestrel's framing error becomes a JSON 400.
        var raw = await SendRawAsync(collector.BaseAddress,
            "POST /v1/events HTTP/1.1\r\nHost: x\r\nX-Candor-Write-Key: " + CollectorProcess.WriteKey +
            "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 4", raw, StringComparison.Ordinal);

        // An analytics filter holding U+0000.
        using var admin = collector.CreateAdminClient();
        foreach (var path in new[] { "/v1/admin/analytics/summary?product=acme&version=a%00b", "/v1/admin/events?product=ac%00me" })
        {
            using var response = await admin.GetAsync(new Uri(path, UriKind.Relative));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("\"code\":\"invalid_query\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var ok = await CollectorHttp.PostAsync(client, CollectorHttp.Batch([Guid.NewGuid()]));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        // At the dimension bound every field fits a rollup's index row: stored on both stores alike.
        string[] dimensions = ["product_version", "initial_version", "runtime_version", "os_family", "os_version", "architecture", "ci_name"];
        var widest = CollectorHttp.Batch([Guid.NewGuid()]).Replace("\"product_version\":\"1.4.0\",\"os_family\":\"linux\"",
            string.Join(",", dimensions.Select(d => $"\"{d}\":\"{string.Concat(Enumerable.Repeat("é", 100))}\"")), StringComparison.Ordinal);
        using var wide = await CollectorHttp.PostAsync(client, widest);
        Assert.Equal(HttpStatusCode.OK, wide.StatusCode);
        Assert.DoesNotContain("Unhandled exception", collector.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminReadsAnswerWithTheDefaultMemoryLimitOnceManyEventsAreStored()
    {
        await using var server = await StorageUnderTest.StartAsync("duckdb");
        using var data = new TemporaryDirectory();
        await using var collector = await CollectorProcess.StartAsync(data.Path, server.Environment(NoIngestLimit));
        using var client = new HttpClient { BaseAddress = collector.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        await Parallel.ForAsync(0, 220, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (_, ct) =>
        {
            using var response = await CollectorHttp.PostAsync(client, CollectorHttp.Batch(Enumerable.Range(0, 1000).Select(_ => Guid.NewGuid())), cancellationToken: ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        });

        using var admin = collector.CreateAdminClient();
        using var events = await admin.GetAsync(new Uri("/v1/admin/events?product=acme&limit=100", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, events.StatusCode);
        using var document = JsonDocument.Parse(await events.Content.ReadAsStringAsync());
        Assert.Equal(100, document.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task ABodyTrickledInAtOneKilobytePerSecondIsCutOffAtTheBodyDeadline()
    {
        await using var server = await StorageUnderTest.StartAsync("duckdb");
        using var data = new TemporaryDirectory();
        var settings = NoIngestLimit;
        settings["Candor__MaxBodyReadTime"] = "00:00:03";
        await using var collector = await CollectorProcess.StartAsync(data.Path, server.Environment(settings));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(collector.BaseAddress.Host, collector.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /v1/events HTTP/1.1\r\nHost: x\r\nX-Candor-Write-Key: {CollectorProcess.WriteKey}\r\nContent-Length: 1048576\r\n\r\n"));

        // A kilobyte a second, as the probe sent it, for at most 20 s: the answer must come first.
        var buffer = new byte[4096];
        var answer = stream.ReadAsync(buffer).AsTask();
        for (var second = 0; second < 20 && !answer.IsCompleted; second++)
        {
            try
            {
                await stream.WriteAsync(new byte[1024]);
            }
            catch (IOException)
            {
                break; // the collector answered and closed
            }

            await Task.WhenAny(answer, Task.Delay(1000));
        }

        Assert.True(answer.IsCompleted, "no answer while the body trickled in for 20 s");
        var text = Encoding.ASCII.GetString(buffer, 0, await answer);
        Assert.StartsWith("HTTP/1.1 408", text, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"body_timeout\"", text, StringComparison.Ordinal);
    }

    private static string Wide(string field) => $"\"{field}\":\"{string.Concat(Enumerable.Repeat("é", 1000))}\"";

    private static string Regex(string input, string pattern, string replacement) =>
        System.Text.RegularExpressions.Regex.Replace(input, pattern, replacement.Replace("$", "$$", StringComparison.Ordinal));

    private static async Task<string> SendRawAsync(Uri address, string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        return Encoding.ASCII.GetString(buffer, 0, read);
    }
}
