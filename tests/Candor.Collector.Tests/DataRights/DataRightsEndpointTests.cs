using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Candor.Collector.DataRights;
using Candor.Collector.Storage;
using Candor.Collector.Operations;
using Candor.Protocol;

namespace Candor.Collector.Tests.DataRights;

/// <summary>
/// <c>POST /v1/forget</c> and <c>POST /v1/access</c> through the real collector, over a fake store:
/// every answer of the contract (docs/data-rights.md), and no call to the store for any refusal.
/// </summary>
public sealed class DataRightsEndpointTests
{
    [Fact]
    public async Task AForgetDeletesWhatIsHeldAnswersWithTheCountsAndASecondForgetIsAlreadyForgotten()
    {
        var (collector, store) = await DataRightsHost.StartAsync();
        await using var _ = collector;
        var install = Guid.NewGuid();
        store.Held[("acme", install)] = DataRightsHost.Records(install);
        var forgottenBefore = CollectorMetrics.ForgetRequests.WithLabels("forgotten").Value;
        var againBefore = CollectorMetrics.ForgetRequests.WithLabels("already_forgotten").Value;

        using var first = await collector.PostRightsAsync(ProtocolConstants.ForgetPath, DataRightsHost.Body(install));
        using var second = await collector.PostRightsAsync(ProtocolConstants.ForgetPath, DataRightsHost.Body(install));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var answer = JsonSerializer.Deserialize(await first.Content.ReadAsStringAsync(), ProtocolJsonContext.Default.ForgetResponse)!;
        Assert.Equal(("forgotten", 2L, 1L), (answer.Status, answer.Events, answer.Quarantine));
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var again = JsonSerializer.Deserialize(await second.Content.ReadAsStringAsync(), ProtocolJsonContext.Default.ForgetResponse)!;
        Assert.Equal(("already_forgotten", 0L, 0L), (again.Status, again.Events, again.Quarantine));
        Assert.True(collector.Service<ForgottenInstalls>().IsForgotten("acme", install));
        Assert.False(collector.Service<ForgottenInstalls>().IsForgotten("other", install));
        Assert.True(CollectorMetrics.ForgetRequests.WithLabels("forgotten").Value >= forgottenBefore + 1);
        Assert.True(CollectorMetrics.ForgetRequests.WithLabels("already_forgotten").Value >= againBefore + 1);
    }

    [Fact]
    public async Task AForgetOfAnInstallNothingIsHeldForIsAnswered404AndKeepsNoTombstone()
    {
        var (collector, store) = await DataRightsHost.StartAsync();
        await using var _ = collector;
        var install = Guid.NewGuid();
        var unknownBefore = CollectorMetrics.ForgetRequests.WithLabels("unknown").Value;

        using var response = await collector.PostRightsAsync(ProtocolConstants.ForgetPath, DataRightsHost.Body(install));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(ErrorCodes.UnknownInstall, await response.CodeAsync());
        Assert.False(collector.Service<ForgottenInstalls>().IsForgotten("acme", install));
        Assert.Empty(await store.ReadTombstonesAsync(CancellationToken.None));
        Assert.True(CollectorMetrics.ForgetRequests.WithLabels("unknown").Value >= unknownBefore + 1);
    }

    [Fact]
    public async Task AccessShowsWhatIsHeldWithEventsAsTheAdminApiShowsThem()
    {
        var (collector, store) = await DataRightsHost.StartAsync();
        await using var _ = collector;
        var install = Guid.NewGuid();
        var records = DataRightsHost.Records(install, truncated: true);
        store.Held[("acme", install)] = records;

        using var response = await collector.PostRightsAsync(ProtocolConstants.AccessPath, DataRightsHost.Body(install));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("acme", (string?)answer["product"]);
        Assert.Equal(install.ToString("D"), (string?)answer["install_id"]);
        Assert.True((bool?)answer["truncated"]);
        var events = JsonNode.Parse(JsonSerializer.Serialize(records.Events, CollectorJsonContext.Default.IReadOnlyListStoredEvent));
        var quarantine = JsonNode.Parse(JsonSerializer.Serialize(records.Quarantine, CollectorJsonContext.Default.IReadOnlyListQuarantineRecord));
        Assert.True(JsonNode.DeepEquals(events, answer["events"]), answer["events"]!.ToJsonString());
        Assert.True(JsonNode.DeepEquals(quarantine, answer["quarantine"]), answer["quarantine"]!.ToJsonString());
        Assert.Equal([$"read acme {install} {DataRightsEndpoints.MaxAccessRecords}"], store.Calls);
    }

    [Fact]
    public async Task AccessToAnUnknownInstallIs404AndToAForgottenOneIs410()
    {
        var (collector, store) = await DataRightsHost.StartAsync();
        await using var _ = collector;
        var install = Guid.NewGuid();
        store.Held[("acme", install)] = DataRightsHost.Records(install);
        var forgottenBefore = CollectorMetrics.AccessRequests.WithLabels("forgotten").Value;

        using var unknown = await collector.PostRightsAsync(ProtocolConstants.AccessPath, DataRightsHost.Body(Guid.NewGuid()));
        (await collector.PostRightsAsync(ProtocolConstants.ForgetPath, DataRightsHost.Body(install))).Dispose();
        using var gone = await collector.PostRightsAsync(ProtocolConstants.AccessPath, DataRightsHost.Body(install));

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(ErrorCodes.UnknownInstall, await unknown.CodeAsync());
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        Assert.Equal(ErrorCodes.InstallForgotten, await gone.CodeAsync());
        Assert.True(CollectorMetrics.AccessRequests.WithLabels("forgotten").Value >= forgottenBefore + 1);
    }

    [Fact]
    public async Task AccessToAnInstallAnotherInstanceForgotIs410BeforeTheRefresherHasRun()
    {
        var (collector, store) = await DataRightsHost.StartAsync();
        await using var _ = collector;
        var install = Guid.NewGuid();
        var forgotten = collector.Service<ForgottenInstalls>();
        store.KeepTombstoneOfAnotherInstance(forgotten.Tombstone("acme", install));

        using var response = await collector.PostRightsAsync(ProtocolConstants.AccessPath, DataRightsHost.Body(install));

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
        Assert.Equal(ErrorCodes.InstallForgotten, await response.CodeAsync());
        Assert.True(forgotten.IsForgotten("acme", install));
    }

    public static TheoryData<string> Paths => [ProtocolConstants.ForgetPath, ProtocolConstants.AccessPath];

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task EveryRefusalIsAClear4xxAndAsksTheStoreNothing(string path)
    {
        var (collector, store) = await DataRightsHost.StartAsync();
        await using var _ = collector;
        var install = Guid.NewGuid();
        store.Held[("acme", install)] = DataRightsHost.Records(install);
        var body = DataRightsHost.Body(install);
        var oversized = $$"""{"product":"acme","install_id":"{{install}}","padding":"{{new string('x', DataRightsEndpoints.MaxBodyBytes)}}"}""";
        (string Case, string Body, string? Key, HttpStatusCode Status, string Code)[] cases =
        [
            ("no write key", body, null, HttpStatusCode.Unauthorized, ErrorCodes.MissingWriteKey),
            ("an unknown write key", body, "wk_nobody_0123456789abcdef", HttpStatusCode.Unauthorized, ErrorCodes.InvalidWriteKey),
            ("the write key of another product", body, DataRightsHost.OtherKey, HttpStatusCode.Unauthorized, ErrorCodes.InvalidWriteKey),
            ("a body that is not JSON", "product=acme&install_id=" + install, TestCollector.WriteKey, HttpStatusCode.BadRequest, ErrorCodes.MalformedBody),
            ("an empty body", "", TestCollector.WriteKey, HttpStatusCode.BadRequest, ErrorCodes.MalformedBody),
            ("a JSON null", "null", TestCollector.WriteKey, HttpStatusCode.BadRequest, ErrorCodes.MalformedBody),
            ("an install id that is a number", """{"product":"acme","install_id":5}""", TestCollector.WriteKey, HttpStatusCode.BadRequest, ErrorCodes.MalformedBody),
            ("an invalid product", DataRightsHost.Body(install, "acme cli"), TestCollector.WriteKey, HttpStatusCode.BadRequest, ErrorCodes.InvalidProduct),
            ("no product", $$"""{"install_id":"{{install}}"}""", TestCollector.WriteKey, HttpStatusCode.BadRequest, ErrorCodes.InvalidProduct),
            ("no install id", """{"product":"acme"}""", TestCollector.WriteKey, HttpStatusCode.BadRequest, ErrorCodes.InvalidInstallId),
            ("an install id that is not a UUID", """{"product":"acme","install_id":"install-1"}""", TestCollector.WriteKey, HttpStatusCode.BadRequest, ErrorCodes.InvalidInstallId),
            ("an install id without dashes", $$"""{"product":"acme","install_id":"{{install:N}}"}""", TestCollector.WriteKey, HttpStatusCode.BadRequest, ErrorCodes.InvalidInstallId),
            ("the empty UUID", DataRightsHost.Body(Guid.Empty), TestCollector.WriteKey, HttpStatusCode.BadRequest, ErrorCodes.InvalidInstallId),
            ("a body over 4 KB", oversized, TestCollector.WriteKey, HttpStatusCode.RequestEntityTooLarge, ErrorCodes.BodyTooLarge),
        ];
        var scope = path == ProtocolConstants.ForgetPath ? CollectorMetrics.ForgetRequests : CollectorMetrics.AccessRequests;
        var refusedBefore = scope.WithLabels(CollectorMetrics.RefusedOutcome).Value;

        foreach (var (name, requestBody, key, status, code) in cases)
        {
            using var response = await collector.PostRightsAsync(path, requestBody, key);
            Assert.True(status == response.StatusCode, $"{name}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.True(code == await response.CodeAsync(), name);
        }

        Assert.Empty(store.Calls);
        Assert.True(store.Held.ContainsKey(("acme", install)));
        Assert.False(collector.Service<ForgottenInstalls>().IsForgotten("acme", install));
        Assert.True(scope.WithLabels(CollectorMetrics.RefusedOutcome).Value >= refusedBefore + cases.Length);
    }

    [Fact]
    public async Task AGzippedRequestIsReadLikeAnIngestBody()
    {
        var (collector, store) = await DataRightsHost.StartAsync();
        await using var _ = collector;
        var install = Guid.NewGuid();
        store.Held[("acme", install)] = DataRightsHost.Records(install);
        using var request = new HttpRequestMessage(HttpMethod.Post, ProtocolConstants.AccessPath)
        {
            Content = new ByteArrayContent(TestCollector.Gzip(Encoding.UTF8.GetBytes(DataRightsHost.Body(install)))),
        };
        request.Content.Headers.ContentEncoding.Add("gzip");
        request.Headers.Add(ProtocolConstants.WriteKeyHeader, TestCollector.WriteKey);

        using var response = await collector.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task BeyondTheirPerAddressLimitsForgetAndAccessAreAnswered429WithRetryAfterAndAskTheStoreNothing()
    {
        var (collector, store) = await DataRightsHost.StartAsync(
            "--Candor:RateLimits:ForgetRequestsPerMinute=2", "--Candor:RateLimits:AccessRequestsPerMinute=1");
        await using var _ = collector;
        var limitedBefore = CollectorMetrics.RateLimited.WithLabels("access").Value;

        // Unknown installs: each request reaches the store once (404), until the limit answers instead.
        var forgets = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var forget = await collector.PostRightsAsync(ProtocolConstants.ForgetPath, DataRightsHost.Body(Guid.NewGuid()));
            forgets.Add(forget.StatusCode);
        }

        using var access = await collector.PostRightsAsync(ProtocolConstants.AccessPath, DataRightsHost.Body(Guid.NewGuid()));
        using var limited = await collector.PostRightsAsync(ProtocolConstants.AccessPath, DataRightsHost.Body(Guid.NewGuid()));

        Assert.Equal([HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.TooManyRequests], forgets);
        Assert.Equal(HttpStatusCode.NotFound, access.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(ErrorCodes.RateLimited, await limited.CodeAsync());
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {limited.Headers.RetryAfter}");
        Assert.Equal(3, store.Calls.Count);
        Assert.True(CollectorMetrics.RateLimited.WithLabels("access").Value >= limitedBefore + 1);
    }
}
