using System.Net;
using System.Text;
using System.Text.Json;
using Candor.Collector.Ingestion;
using Candor.Protocol;

namespace Candor.Collector.Tests.Ingestion;

/// <summary>Input no real client sends, answered with a code and stored nowhere in full.</summary>
public sealed class HostileInputTests
{
    [Fact]
    public async Task AHugeEventNameIsQuarantinedAsABoundedExcerpt()
    {
        await using var collector = await TestCollector.StartAsync();
        var name = new string('x', 20_000); // over the limit, in a body small enough to be parsed

        using var response = await collector.PostAsync(TestCollector.BatchOf("acme", TestCollector.Event(Guid.CreateVersion7(), name: name)));

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "no_valid_events");
        var quarantined = Assert.Single(await collector.ReadQuarantineAsync());
        Assert.Equal("string_too_long", quarantined.GetProperty("reason_code").GetString());
        Assert.True(quarantined.GetProperty("schema_ref").GetString()!.Length < 300);
        Assert.True(quarantined.GetProperty("event_json").GetString()!.Length <= 4096);
        Assert.True(quarantined.GetProperty("message").GetString()!.Length <= EventValidator.MaxMessageChars);
    }

    [Fact]
    public async Task ABodyWithAMegabyteStringIsRefusedWholeBeforeItIsParsed()
    {
        await using var collector = await TestCollector.StartAsync();
        var huge = new string('y', 1_000_000);

        using var response = await collector.PostAsync(TestCollector.BatchOf("acme",
            TestCollector.Event(Guid.CreateVersion7(), $$"""{"command":"{{huge}}","exit_code":0,"duration_ms":3}""")), gzip: true);

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "string_too_long");
        Assert.Empty(await collector.ReadQuarantineAsync());
    }

    [Fact]
    public async Task ANulInAContextFieldRefusesTheBatchAndANulInAPropertyRefusesItsEvent()
    {
        await using var collector = await TestCollector.StartAsync();
        var inContext = TestCollector.Batch("acme", Guid.CreateVersion7()).Replace("\"product\":\"acme\"", "\"product\":\"acme\",\"os_version\":\"a\\u0000b\"", StringComparison.Ordinal);

        using (var response = await collector.PostAsync(inContext))
        {
            await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_text");
        }

        Guid[] ids = [Guid.CreateVersion7(), Guid.CreateVersion7()];
        using (var response = await collector.PostAsync(TestCollector.BatchOf("acme",
            TestCollector.Event(ids[0], """{"command":"r\u0000n","exit_code":0,"duration_ms":3}"""),
            TestCollector.Event(ids[1]))))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("invalid_text", body.RootElement.GetProperty("results")[0].GetProperty("code").GetString());
        }

        Assert.Equal(ids[1], Assert.Single(await collector.ReadEventsAsync()).GetProperty("id").GetGuid());
        Assert.DoesNotContain('\0', Assert.Single(await collector.ReadQuarantineAsync()).GetProperty("event_json").GetString()!);
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    public async Task ANumberBeyondADoubleIsAPerEventRejection(string number)
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.PostAsync(TestCollector.BatchOf("acme",
            TestCollector.Event(Guid.CreateVersion7(), $$"""{"command":"run","exit_code":0,"duration_ms":{{number}}}""")));

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "no_valid_events");
        var quarantined = Assert.Single(await collector.ReadQuarantineAsync());
        Assert.Equal("number_out_of_range", quarantined.GetProperty("reason_code").GetString());
        Assert.Contains("Infinity", quarantined.GetProperty("event_json").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("9999-12-31T23:59:59Z", null, "time_too_old")]
    [InlineData("0001-01-01T00:00:00.001Z", null, "time_in_future")]
    [InlineData(null, "9999-12-31T23:59:59Z", "time_in_future")]
    [InlineData(null, "0001-01-01T00:00:00.001Z", "time_too_old")]
    public async Task TimesNearTheEndsOfTheCalendarAreRejectedPerEvent(string? sentAt, string? time, string code)
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await collector.PostAsync(TestCollector.BatchSentAt(sentAt ?? TestCollector.Now, "acme",
            TestCollector.Event(Guid.CreateVersion7(), time: time)));

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "no_valid_events");
        Assert.Equal(code, Assert.Single(await collector.ReadQuarantineAsync()).GetProperty("reason_code").GetString());
    }

    [Fact]
    public async Task ANullEventIsRejectedAndTheOthersAreStored()
    {
        await using var collector = await TestCollector.StartAsync();
        var id = Guid.CreateVersion7();

        using var response = await collector.PostAsync(TestCollector.BatchOf("acme", "null", TestCollector.Event(id)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_event", body.RootElement.GetProperty("results")[0].GetProperty("code").GetString());
        Assert.Equal(id, Assert.Single(await collector.ReadEventsAsync()).GetProperty("id").GetGuid());
    }

    [Theory]
    [InlineData("ac me")]
    [InlineData("../etc")]
    [InlineData("-acme")]
    public async Task AProductNameOutsideTheRuleIsRefused(string product)
    {
        await using var collector = await TestCollector.StartAsync(configureKeys: false);
        var key = collector.Service<Candor.Collector.Security.Credentials>().CreatedDevelopmentCredentials!.WriteKey;

        using var response = await collector.PostAsync(TestCollector.Batch(product, Guid.CreateVersion7()), writeKey: key);

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_product");
    }

    [Fact]
    public async Task ABodyThatNeverFinishesArrivingIsAnswered408AtTheDeadline()
    {
        await using var collector = await TestCollector.StartAsync(settings: ["--Candor:MaxBodyReadTime=00:00:02", "--Candor:MinBodyBytesPerSecond=0"]);
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(collector.Http.BaseAddress!.Host, collector.Http.BaseAddress.Port);
        var stream = tcp.GetStream();
        // A Content-Length of 1000 and 11 bytes sent: the rest never comes.
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"POST /v1/events HTTP/1.1\r\nHost: x\r\n{ProtocolConstants.WriteKeyHeader}: {TestCollector.WriteKey}\r\nContent-Length: 1000\r\n\r\n{{\"context\":"));

        var answer = new byte[4096];
        var read = await stream.ReadAsync(answer).AsTask().WaitAsync(TimeSpan.FromSeconds(60));
        var text = Encoding.ASCII.GetString(answer, 0, read);

        Assert.StartsWith("HTTP/1.1 408", text, StringComparison.Ordinal);
        Assert.Contains("\"code\":\"body_timeout\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExcerptIsBoundedStorableAndNeverSplitsASurrogatePair()
    {
        var excerpt = TextRules.Excerpt("ab\0" + string.Concat(Enumerable.Repeat("😀", 100)), 10);

        Assert.True(excerpt.Length <= 10);
        Assert.True(TextRules.IsStorable(excerpt));
        Assert.False(char.IsHighSurrogate(excerpt[^2]));
        Assert.EndsWith("…", excerpt, StringComparison.Ordinal);
    }
}
