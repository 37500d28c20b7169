using System.Text.Json;
using Candor.Collector.Storage;
using Candor.Protocol;

namespace Candor.Collector.Tests.Analytics;

/// <summary>
/// A small, fully known service, <c>acme-server</c>, ending at <c>end</c>. Four installs (A, B, C, D)
/// and five process runs: A1 (started 3 h before the end, heartbeats every hour, the last 10 min
/// before the end: live), B1 (started, one heartbeat, shut down "stopped"), B2 (started 3 h before,
/// last heartbeat 1 h 30 before, interval 1 h: live), C1 (heartbeats every 15 min, the last 5 h
/// before: gone), D1 (started, shut down "failed"). Startups of 800, 1200, 1000, 600 and 5000 ms;
/// latest uptimes 10200, 5400, 5400, 3600 and 3600 s. Routes: <c>GET /items/{id}</c> (A, B, C: 20
/// requests, 2 errors), <c>POST /import</c> (A, B, C: 8 requests, 4 errors), <c>GET /health</c> (A, B
/// only: 100) and <c>GET /secret</c> (D only: 5, all failed). The expected figures in the tests
/// follow from this by hand.
/// </summary>
internal static class ServicesSeed
{
    public const string Product = "acme-server";

    public static readonly Guid A = Id(1), B = Id(2), C = Id(3), D = Id(4);

    public static IReadOnlyList<EventRecord> Events(DateTime end)
    {
        var list = new List<EventRecord>();
        Guid a1 = Id(11), b1 = Id(21), b2 = Id(22), c1 = Id(31), d1 = Id(41);
        void E(Guid install, Guid session, double hoursBefore, string name, string json, string product = Product) =>
            list.Add(Record(product, install, session, end.AddHours(-hoursBefore), name, json));

        E(A, a1, 3, "startup", """{"startup_ms":800}""");
        E(A, a1, 2, "heartbeat", """{"uptime_s":3600,"interval_s":3600}""");
        E(A, a1, 1, "heartbeat", """{"uptime_s":7200,"interval_s":3600}""");
        E(A, a1, 10 / 60.0, "heartbeat", """{"uptime_s":10200,"interval_s":3600}""");
        E(B, b1, 5, "startup", """{"startup_ms":1200}""");
        E(B, b1, 4, "heartbeat", """{"uptime_s":3600,"interval_s":3600}""");
        E(B, b1, 3.5, "shutdown", """{"uptime_s":5400,"reason":"stopped"}""");
        E(B, b2, 3, "startup", """{"startup_ms":1000}""");
        E(B, b2, 1.5, "heartbeat", """{"uptime_s":5400,"interval_s":3600}""");
        E(C, c1, 6, "startup", """{"startup_ms":600}""");
        E(C, c1, 5, "heartbeat", """{"uptime_s":3600,"interval_s":900}""");
        E(D, d1, 2, "startup", """{"startup_ms":5000}""");
        E(D, d1, 1, "shutdown", """{"uptime_s":3600,"reason":"failed"}""");

        E(A, a1, 2.5, "http_requests", Requests("/items/{id}", "GET", 10, 1, ("d_le_5", 4), ("d_le_10", 4), ("d_le_50", 2)));
        E(B, b2, 2.5, "http_requests", Requests("/items/{id}", "GET", 6, 0, ("d_le_5", 6)));
        E(C, c1, 5.5, "http_requests", Requests("/items/{id}", "GET", 3, 0, ("d_le_100", 3)));
        E(C, c1, 5.2, "http_requests", Requests("/items/{id}", "GET", 1, 1, ("d_gt_10000", 1)));
        E(A, a1, 2.5, "http_requests", Requests("/import", "POST", 4, 2, ("d_le_1000", 4)));
        E(B, b2, 2.5, "http_requests", Requests("/import", "POST", 2, 0, ("d_le_500", 2)));
        E(C, c1, 5.5, "http_requests", Requests("/import", "POST", 2, 2, ("d_le_2500", 1), ("d_gt_10000", 1)));
        E(A, a1, 2.5, "http_requests", Requests("/health", "GET", 60, 0, ("d_le_1", 60)));
        E(B, b2, 2.5, "http_requests", Requests("/health", "GET", 40, 0, ("d_le_1", 40)));
        E(D, d1, 1.5, "http_requests", Requests("/secret", "GET", 5, 5, ("d_le_25", 5)));

        E(A, a1, 2.5, "http_error", HttpError("/import", "POST", 413, null, "import_too_large", 1));
        E(B, b2, 2.5, "http_error", HttpError("/import", "POST", 413, null, "import_too_large", 2));
        E(C, c1, 5.5, "http_error", HttpError("/import", "POST", 413, null, "import_too_large", 1));
        E(A, a1, 2.5, "http_error", HttpError("/items/{id}", "GET", 500, "System.InvalidOperationException", "InvalidOperationException", 1));
        E(C, c1, 5.2, "http_error", HttpError("/items/{id}", "GET", 500, "System.InvalidOperationException", "InvalidOperationException", 1));
        E(D, d1, 1.5, "http_error", HttpError("/secret", "GET", 500, null, "secret_failure", 5));

        foreach (var (install, session) in new[] { (A, a1), (B, b2), (C, c1) })
        {
            E(install, session, 2.5, "http_clients", """{"client":"curl/8","language":"en","count":5}""");
            E(install, session, 2.5, "http_clients", $$"""{"client":"chrome","language":"de","count":{{(install == A ? 3 : install == B ? 2 : 1)}}}""");
            E(install, session, 2.4, "error", """{"error_type":"DbException","error_code":"E_DB"}""");
        }

        E(D, d1, 1.5, "http_clients", """{"client":"python-requests/2","language":"none","count":4}""");
        E(D, d1, 1.5, "error", """{"error_type":"IOException","error_code":"E_LONELY"}""");

        // Another product, which must never show in acme-server's answers.
        E(Id(99), Id(991), 1, "http_requests", Requests("/leak", "GET", 1000, 0, ("d_le_1", 1000)), product: "acme");
        return list;
    }

    /// <summary>Where each install runs (read once the store keeps the context's cloud fields).</summary>
    private static (string? Cloud, string? Region, string? Platform, string? Container) Where(Guid install)
    {
        if (install == A || install == B)
        {
            return ("aws", "eu-west-1", "ecs", "docker");
        }

        return install == C ? ("azure", "westeurope", "app-service", null) : (null, null, null, null);
    }

    private static EventRecord Record(string product, Guid install, Guid session, DateTime time, string name, string json)
    {
        var (cloud, region, platform, container) = Where(install);
        var properties = JsonSerializer.Deserialize(json, CollectorJsonContext.Default.IDictionaryStringPropertyValue);
        return new EventRecord
        {
            Product = product,
            Id = Guid.CreateVersion7(),
            Name = name,
            SchemaVersion = "1-0-0",
            Time = new DateTimeOffset(time),
            ReceivedAt = new DateTimeOffset(time.AddSeconds(1)),
            Context = new EventContext
            {
                Product = product,
                InstallId = install,
                SessionId = session,
                ProductVersion = "1.0.0",
                SdkVersion = "0.1.0",
                RuntimeVersion = "10.0.0",
                OsFamily = "linux",
                OsVersion = "Debian 12",
                Architecture = "x64",
                Cloud = cloud,
                CloudRegion = region,
                CloudPlatform = platform,
                Container = container,
            },
            PropertiesJson = json,
            Country = "DE",
            Analytics = AnalyticsFields.Derive(new TelemetryEvent { Name = name, Properties = properties }),
        };
    }

    private static string Requests(string route, string method, int count, int errors, params (string Bucket, int N)[] buckets) =>
        $$"""{"route":"{{route}}","method":"{{method}}","status_class":"2xx","count":{{count}},"errors":{{errors}},"duration_sum_ms":{{count * 10}}{{string.Concat(buckets.Select(b => $",\"{b.Bucket}\":{b.N}"))}}}""";

    private static string HttpError(string route, string method, int status, string? type, string code, int count) =>
        $$"""{"route":"{{route}}","method":"{{method}}","status":{{status}},{{(type is null ? "" : $"\"error_type\":\"{type}\",")}}"error_code":"{{code}}","count":{{count}}}""";

    private static Guid Id(int n) => new($"00000000-0000-4000-9000-{n:D12}");
}
