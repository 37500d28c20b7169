using System.Net.Http.Headers;
using System.Text.Json;
using Candor.Collector.Tests.Storage.Postgres;
using Candor.Protocol;

namespace Candor.Collector.Tests.Storage;

/// <summary>
/// Where a client's process runs, end to end through the collector: the context as the client
/// serializes it, ingested, stored, shown by the admin API and offered as analytics breakdowns.
/// Run on both stores.
/// </summary>
public abstract class CloudContextRoundTrip
{
    private protected abstract Task<TestCollector> StartAsync();

    [Fact]
    public async Task TheAdminApiShowsWhereEachEventsProcessRanAndTheAnalyticsBreakItDown()
    {
        await using var collector = await StartAsync();
        EventContext[] installs =
        [
            Context("aws", "ecs", "eu-west-1", "docker", perProcess: true),
            Context("aws", "lambda", "eu-west-1", null),
            Context("aws", null, "us-east-2", "kubernetes"),
            Context(null, null, null, null),
            Context(null, null, null, "podman"),
        ];
        var sent = new Dictionary<Guid, EventContext>();
        foreach (var context in installs)
        {
            var id = Guid.CreateVersion7();
            sent[id] = context;
            using var response = await collector.PostAsync(Batch(context, id));
            response.EnsureSuccessStatusCode();
        }

        var events = await collector.ReadEventsAsync();

        Assert.Equal(installs.Length, events.Length);
        foreach (var e in events)
        {
            var expected = sent[e.GetProperty("id").GetGuid()];
            var context = e.GetProperty("context");
            Assert.Equal(
                (expected.Cloud, expected.CloudPlatform, expected.CloudRegion, expected.Container, expected.InstallIdPerProcess),
                (Text(context, "cloud"), Text(context, "cloud_platform"), Text(context, "cloud_region"), Text(context, "container"),
                    context.TryGetProperty("install_id_per_process", out var perProcess) && perProcess.GetBoolean()));
        }

        // k = 2: us-east-2 (one install) folds into "other".
        Assert.Equal("eu-west-1:2,unknown:2,other:1", await BreakdownAsync(collector, "cloud-region"));
        Assert.Equal("aws:3,unknown:2", await BreakdownAsync(collector, "cloud"));
        Assert.Equal("unknown:3,other:2", await BreakdownAsync(collector, "cloud-platform"));
        Assert.Equal("other:3,unknown:2", await BreakdownAsync(collector, "container"));
    }

    private static EventContext Context(string? cloud, string? platform, string? region, string? container, bool perProcess = false) => new()
    {
        Product = "acme",
        ProductVersion = "1.4.0",
        SessionId = Guid.CreateVersion7(),
        InstallId = Guid.NewGuid(),
        InstallIdPerProcess = perProcess,
        Cloud = cloud,
        CloudPlatform = platform,
        CloudRegion = region,
        Container = container,
    };

    // The context as a client writes it (the SDK's hand-written JSON is tested equal to this serializer's).
    private static string Batch(EventContext context, Guid id) => $$"""
        {"sent_at":"{{TestCollector.Now}}","context":{{JsonSerializer.Serialize(context, ProtocolJsonContext.Default.EventContext)}},
         "events":[{{TestCollector.Event(id)}}]}
        """;

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.GetString() : null;

    private static async Task<string> BreakdownAsync(TestCollector collector, string dimension)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/admin/analytics/breakdown/{dimension}?product=acme");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestCollector.AdminToken);
        using var response = await collector.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var rows = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return string.Join(",", rows.RootElement.EnumerateArray()
            .Select(r => $"{r.GetProperty("label").GetString()}:{r.GetProperty("installs").GetInt64()}"));
    }
}

public sealed class DuckDbCloudContextRoundTripTests : CloudContextRoundTrip
{
    private protected override Task<TestCollector> StartAsync() =>
        TestCollector.StartAsync(settings: ["--Candor:Analytics:MinimumGroupSize=2"]);
}

[Collection("postgres")]
public sealed class PostgresCloudContextRoundTripTests(PostgresFixture postgres) : CloudContextRoundTrip
{
    private protected override async Task<TestCollector> StartAsync() =>
        await TestCollector.StartAsync(settings:
            ["--Candor:Storage=postgres", $"--Candor:ConnectionString={await postgres.Server.CreateDatabaseAsync()}", "--Candor:Analytics:MinimumGroupSize=2"]);
}
