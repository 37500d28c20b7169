using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Candor.Collector.Tests.Ingestion;

/// <summary>Every way a request or an event is refused: its status, its code, the quarantine, and the data already stored left alone.</summary>
public sealed class RejectionTests
{
    [Fact]
    public async Task ABodyOverTheCompressedLimitIs413AndStoresNothing()
    {
        await using var collector = await StartWithOneStoredEventAsync();

        using var response = await collector.PostBytesAsync(new byte[1024 * 1024 + 1]);

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "body_too_large");
        await AssertOnlyTheFirstEventIsStoredAsync(collector);
    }

    [Fact]
    public async Task ADecompressionBombStopsAtTheDecompressedLimitWith413()
    {
        await using var collector = await StartWithOneStoredEventAsync();
        byte[] bomb;
        using (var output = new MemoryStream())
        {
            using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize))
            {
                var spaces = new byte[1024 * 1024];
                Array.Fill(spaces, (byte)' ');
                for (var i = 0; i < 64; i++)
                {
                    gzip.Write(spaces);
                }
            }

            bomb = output.ToArray();
        }

        Assert.True(bomb.Length < 1024 * 1024, "the bomb itself fits under the compressed limit");
        using var response = await collector.PostBytesAsync(bomb, contentEncoding: "gzip");

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "decompressed_body_too_large");
        await AssertOnlyTheFirstEventIsStoredAsync(collector);
    }

    [Fact]
    public async Task ABodyThatIsNotUtf8Is400WithItsOwnCode()
    {
        await using var collector = await StartWithOneStoredEventAsync();
        var bytes = Encoding.UTF8.GetBytes(TestCollector.Batch());
        var index = Array.IndexOf(bytes, (byte)'r'); // inside "run"
        bytes[index] = 0xFF;

        using var response = await collector.PostBytesAsync(bytes);

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_utf8");
        await AssertOnlyTheFirstEventIsStoredAsync(collector);
    }

    [Fact]
    public async Task JsonNestedDeeperThanTheLimitIs400WithItsOwnCode()
    {
        await using var collector = await StartWithOneStoredEventAsync();
        var deep = new string('[', 200) + new string(']', 200);

        using var response = await collector.PostAsync($$"""{"context":{"product":"acme","extra":{{deep}}},"events":[]}""");

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "nesting_too_deep");
        await AssertOnlyTheFirstEventIsStoredAsync(collector);
    }

    [Fact]
    public async Task MoreThanAThousandEventsIs413()
    {
        await using var collector = await StartWithOneStoredEventAsync();

        using var response = await collector.PostAsync(TestCollector.Batch("acme", [.. Enumerable.Range(0, 1001).Select(_ => Guid.CreateVersion7())]));

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.RequestEntityTooLarge, "too_many_events");
        await AssertOnlyTheFirstEventIsStoredAsync(collector);
    }

    [Fact]
    public async Task AContextStringOverTheLengthLimitIs400()
    {
        await using var collector = await StartWithOneStoredEventAsync();
        var batch = TestCollector.Batch().Replace("\"1.4.0\"", $"\"{new string('9', 1025)}\"", StringComparison.Ordinal);

        using var response = await collector.PostAsync(batch);

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "string_too_long");
        await AssertOnlyTheFirstEventIsStoredAsync(collector);
    }

    public static TheoryData<string, string> InvalidEvents => new()
    {
        { TestCollector.Event(Guid.CreateVersion7(), name: "deploy"), "unknown_schema" },
        { TestCollector.Event(Guid.CreateVersion7(), version: "9-0-0"), "unknown_schema" },
        { TestCollector.Event(Guid.CreateVersion7(), """{"command":"run","exit_code":0,"duration_ms":3,"path":"/home/alice"}"""), "undeclared_property" },
        { TestCollector.Event(Guid.CreateVersion7(), """{"command":"run","exit_code":"zero","duration_ms":3}"""), "invalid_property" },
        { TestCollector.Event(Guid.CreateVersion7(), """{"command":"run","exit_code":0}"""), "invalid_property" },
        { TestCollector.Event(Guid.CreateVersion7(), """{"command":"run","exit_code":0,"duration_ms":-5}"""), "invalid_property" },
        { TestCollector.Event(Guid.CreateVersion7(), $$"""{"command":"{{new string('x', 1025)}}","exit_code":0,"duration_ms":3}"""), "string_too_long" },
        { TestCollector.Event(Guid.CreateVersion7(), time: DateTimeOffset.UtcNow.AddDays(2).ToString("O")), "time_in_future" },
        { TestCollector.Event(Guid.CreateVersion7(), time: DateTimeOffset.UtcNow.AddDays(-90).ToString("O")), "time_too_old" },
        { TestCollector.Event(Guid.Empty), "invalid_event" },
    };

    [Theory]
    [MemberData(nameof(InvalidEvents))]
    public async Task ABatchWhoseOnlyEventIsInvalidIs422WithTheReasonAndTheEventIsQuarantined(string invalidEvent, string code)
    {
        await using var collector = await StartWithOneStoredEventAsync();

        using var response = await collector.PostAsync(TestCollector.BatchOf("acme", invalidEvent));

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "no_valid_events");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var result = Assert.Single(body.RootElement.GetProperty("results").EnumerateArray());
        Assert.Equal(("rejected", code), (result.GetProperty("status").GetString(), result.GetProperty("code").GetString()));
        var quarantined = Assert.Single(await collector.ReadQuarantineAsync());
        Assert.Equal(code, quarantined.GetProperty("reason_code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(quarantined.GetProperty("message").GetString()));
        Assert.Contains("\"name\"", quarantined.GetProperty("event_json").GetString(), StringComparison.Ordinal);
        await AssertOnlyTheFirstEventIsStoredAsync(collector);
    }

    [Fact]
    public async Task AMixedBatchStoresTheValidEventsAndAnswersEachEventInOrder()
    {
        await using var collector = await TestCollector.StartAsync();
        Guid[] ids = [Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7()];

        using var response = await collector.PostAsync(TestCollector.BatchOf("acme",
            TestCollector.Event(ids[0]),
            TestCollector.Event(ids[1], """{"command":"run","exit_code":0,"duration_ms":3,"user":"alice"}"""),
            TestCollector.Event(ids[2])));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((2, 1), (body.RootElement.GetProperty("accepted").GetInt32(), body.RootElement.GetProperty("rejected").GetInt32()));
        Assert.Equal(["accepted", "rejected", "accepted"], body.RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("status").GetString()));
        Assert.Equal(ids, body.RootElement.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetGuid()));
        Assert.Equal(new[] { ids[0], ids[2] }.Order(), (await collector.ReadEventsAsync()).Select(e => e.GetProperty("id").GetGuid()).Order());
        var quarantined = Assert.Single(await collector.ReadQuarantineAsync());
        Assert.Equal(ids[1], quarantined.GetProperty("event_id").GetGuid());
        Assert.Equal("acme/command/1-0-0", quarantined.GetProperty("schema_ref").GetString());
    }

    [Fact]
    public async Task AQuarantinedEventIsTruncatedToTheConfiguredBound()
    {
        await using var collector = await TestCollector.StartAsync(settings: ["--Candor:QuarantineEventChars=300"]);

        using var response = await collector.PostAsync(TestCollector.BatchOf("acme",
            TestCollector.Event(Guid.CreateVersion7(), $$"""{"command":"{{new string('x', 1000)}}","exit_code":0,"duration_ms":3,"extra":1}""")));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal(300, Assert.Single(await collector.ReadQuarantineAsync()).GetProperty("event_json").GetString()!.Length);
    }

    [Fact]
    public async Task AnEventTimeIsCorrectedForTheClientsClockSkew()
    {
        await using var collector = await TestCollector.StartAsync();
        // The client's clock runs three hours fast: it stamps the batch and the event by that clock.
        var clientNow = DateTimeOffset.UtcNow.AddHours(3);
        var batch = TestCollector.BatchSentAt(clientNow.ToString("O"), "acme", TestCollector.Event(Guid.CreateVersion7(), time: clientNow.AddMinutes(-1).ToString("O")));

        using var response = await collector.PostAsync(batch);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = Assert.Single(await collector.ReadEventsAsync());
        var time = stored.GetProperty("time").GetDateTimeOffset();
        Assert.InRange(time, DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow);
    }

    private static async Task<TestCollector> StartWithOneStoredEventAsync()
    {
        var collector = await TestCollector.StartAsync();
        using var response = await collector.PostAsync(TestCollector.Batch("acme", FirstId));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return collector;
    }

    private static readonly Guid FirstId = Guid.CreateVersion7();

    private static async Task AssertOnlyTheFirstEventIsStoredAsync(TestCollector collector) =>
        Assert.Equal(FirstId, Assert.Single(await collector.ReadEventsAsync()).GetProperty("id").GetGuid());
}
