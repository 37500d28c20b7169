using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Candor.Collector.Storage;
using Candor.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace Candor.Collector.Tests.DataRights;

/// <summary>The real collector with <see cref="FakeDataRights"/> in place of its store's data rights,
/// a second product (<c>other</c>) with its own key, retention off and the forget and access rate limits
/// out of the way unless a test sets them.</summary>
internal static class DataRightsHost
{
    public const string OtherKey = "wk_test_other_0123456789abcdef";

    public static async Task<(TestCollector Collector, FakeDataRights Store)> StartAsync(params string[] settings)
    {
        var collector = await TestCollector.StartAsync(
            settings: ["--Candor:RetentionInterval=00:00:00", $"--Candor:Products:other:WriteKey={OtherKey}",
                "--Candor:RateLimits:ForgetRequestsPerMinute=1000", "--Candor:RateLimits:AccessRequestsPerMinute=1000", .. settings],
            services: s => s.AddSingleton<IDataRights>(p => new FakeDataRights(p.GetRequiredService<ForgottenInstalls>())));
        return (collector, (FakeDataRights)collector.Service<IDataRights>());
    }

    public static string Body(Guid installId, string product = "acme") => $$"""{"product":"{{product}}","install_id":"{{installId}}"}""";

    public static Task<HttpResponseMessage> PostRightsAsync(this TestCollector collector, string path, string body, string? writeKey = TestCollector.WriteKey) =>
        collector.PostRightsAsync(path, Encoding.UTF8.GetBytes(body), writeKey);

    public static async Task<HttpResponseMessage> PostRightsAsync(this TestCollector collector, string path, byte[] body, string? writeKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (writeKey is not null)
        {
            request.Headers.Add(ProtocolConstants.WriteKeyHeader, writeKey);
        }

        return await collector.Http.SendAsync(request);
    }

    public static async Task<JsonElement> JsonAsync(this HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    public static async Task<string> CodeAsync(this HttpResponseMessage response) =>
        (await response.JsonAsync()).GetProperty("code").GetString()!;

    /// <summary>Two events and one quarantined event of an install, as a store would read them.</summary>
    public static InstallRecords Records(Guid installId, bool truncated = false)
    {
        var at = new DateTimeOffset(2026, 3, 14, 12, 0, 0, TimeSpan.Zero);
        StoredEvent Event(int minutes) => new()
        {
            Id = Guid.CreateVersion7(),
            Name = "command",
            Version = "1-0-0",
            Time = at.AddMinutes(minutes),
            ReceivedAt = at.AddMinutes(minutes).AddSeconds(1),
            Context = new EventContext { Product = "acme", InstallId = installId, SessionId = Guid.CreateVersion7(), ProductVersion = "1.4.0", OsFamily = "linux" },
            Properties = new Dictionary<string, PropertyValue> { ["command"] = "run", ["exit_code"] = 0 },
            Country = "NZ",
        };

        var quarantined = new QuarantineRecord
        {
            Product = "acme",
            EventId = Guid.CreateVersion7(),
            InstallId = installId,
            ReasonCode = ErrorCodes.UndeclaredProperty,
            Message = "Property 'path' is not declared.",
            SchemaRef = "acme/command/1-0-0",
            ReceivedAt = at,
            EventJson = """{"name":"command","properties":{"path":"/home"}}""",
        };
        return new InstallRecords([Event(2), Event(1)], [quarantined], truncated);
    }
}
