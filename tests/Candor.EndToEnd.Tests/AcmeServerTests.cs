using System.Net;
using System.Text;
using System.Text.Json;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// The sample service <c>acme-server</c> as a real process against the real collector: lifecycle events,
/// per-route usage, error codes, client kinds and languages arrive, and nothing a request carried does.
/// </summary>
public sealed class AcmeServerTests
{
    private const string WriteKey = "wk_test_acme_server_0123456789abcdef";

    // Values a request carries that must never reach the collector: a path value, a query string, a
    // header, a body, and the rest of the user agent and language headers.
    private const string PathSecret = "zelda-path-value";
    private const string QuerySecret = "hunter2-query-value";
    private const string HeaderSecret = "topsecret-header-value";
    private const string BodySecret = "record-body-value";

    [Fact]
    public async Task AServiceReportsItsLifecycleRoutesErrorsAndClientsButNothingARequestCarried()
    {
        using var data = new TemporaryDirectory();
        using var state = new TemporaryDirectory();
        await using var collector = await StartCollectorAsync(data.Path);
        await using var server = await AcmeServerProcess.StartAsync(state.Path, ServerEnvironment(collector.BaseAddress, state.Path));
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        for (var i = 0; i < 5; i++)
        {
            await SendAsync(http, HttpMethod.Get, "/hello", HttpStatusCode.OK, "curl/8.5.0", "en-US,en;q=0.9");
        }

        for (var i = 0; i < 3; i++)
        {
            await SendAsync(http, HttpMethod.Get, $"/items/7?token={QuerySecret}", HttpStatusCode.OK, "python-requests/2.31.0", "de-DE");
        }

        await SendAsync(http, HttpMethod.Get, $"/greet/{PathSecret}", HttpStatusCode.OK, "python-requests/2.31.0", "de-DE");
        await SendAsync(http, HttpMethod.Get, "/items/999", HttpStatusCode.NotFound, "curl/8.5.0", "en");
        await SendAsync(http, HttpMethod.Get, "/items/998", HttpStatusCode.NotFound, "curl/8.5.0", "en");
        await SendAsync(http, HttpMethod.Post, "/import", HttpStatusCode.OK, "curl/8.5.0", "en", Records(10));
        await SendAsync(http, HttpMethod.Post, "/import", HttpStatusCode.RequestEntityTooLarge, "curl/8.5.0", "en", Records(1001));
        await SendAsync(http, HttpMethod.Get, "/fail", HttpStatusCode.InternalServerError, "curl/8.5.0", "en");
        await SendAsync(http, HttpMethod.Get, "/fail", HttpStatusCode.InternalServerError, "curl/8.5.0", "en");

        // Heartbeats every second (shortened by configuration): wait for two, then stop as a container runtime would.
        await WaitForAsync(collector, events => events.Count(e => Name(e) == "heartbeat") >= 2, TimeSpan.FromSeconds(30));
        var shutdownTook = await server.TerminateAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, server.ExitCode);
        Assert.True(shutdownTook < TimeSpan.FromSeconds(10), $"acme-server took {shutdownTook} to stop.");

        var events = await WaitForAsync(collector, events => events.Any(e => Name(e) == "shutdown"), TimeSpan.FromSeconds(10));
        Assert.Single(events, e => Name(e) == "install");
        var startup = Assert.Single(events, e => Name(e) == "startup");
        Assert.InRange(Property(startup, "startup_ms").GetInt64(), 0, 60_000);
        var shutdown = Assert.Single(events, e => Name(e) == "shutdown");
        Assert.Equal("stopped", Property(shutdown, "reason").GetString());
        Assert.True(Property(shutdown, "uptime_s").GetInt64() >= 1);
        Assert.All(events, e => Assert.Equal("2.1.0", e.GetProperty("context").GetProperty("product_version").GetString()));

        // Per route: counts and errors equal the requests made; the template, never the path.
        var routes = events.Where(e => Name(e) == "http_requests")
            .GroupBy(e => (Route: Property(e, "route").GetString(), Method: Property(e, "method").GetString(), Class: Property(e, "status_class").GetString()))
            .ToDictionary(g => g.Key, g => (Count: g.Sum(e => Property(e, "count").GetInt64()), Errors: g.Sum(e => Property(e, "errors").GetInt64())));
        Assert.Equal((5, 0), routes[("/hello", "GET", "2xx")]);
        Assert.Equal((3, 0), routes[("/items/{id:int}", "GET", "2xx")]);
        Assert.Equal((2, 0), routes[("/items/{id:int}", "GET", "4xx")]);
        Assert.Equal((1, 0), routes[("/greet/{name}", "GET", "2xx")]);
        Assert.Equal((1, 0), routes[("/import", "POST", "2xx")]);
        Assert.Equal((1, 0), routes[("/import", "POST", "4xx")]);
        Assert.Equal((2, 2), routes[("/fail", "GET", "5xx")]);
        Assert.Equal(15, routes.Values.Sum(r => r.Count));

        // Error codes: the problem's own code, the exception's type, never its message.
        var errors = events.Where(e => Name(e) == "http_error")
            .GroupBy(e => (Route: Property(e, "route").GetString(), Code: Property(e, "error_code").GetString()))
            .ToDictionary(g => g.Key, g => g.Sum(e => Property(e, "count").GetInt64()));
        Assert.Equal(2, errors[("/items/{id:int}", "item_not_found")]);
        Assert.Equal(1, errors[("/import", "import_too_large")]);
        var failure = Assert.Single(events, e => Name(e) == "http_error" && Property(e, "route").GetString() == "/fail");
        Assert.Equal("System.InvalidOperationException", Property(failure, "error_type").GetString());

        // Client kinds and languages, counted.
        var clients = events.Where(e => Name(e) == "http_clients")
            .GroupBy(e => (Client: Property(e, "client").GetString(), Language: Property(e, "language").GetString()))
            .ToDictionary(g => g.Key, g => g.Sum(e => Property(e, "count").GetInt64()));
        Assert.Equal(11, clients[("curl/8", "en")]);
        Assert.Equal(4, clients[("python-requests/2", "de")]);

        // The bulk import's record count, from the service's own operation.
        var import = Assert.Single(events, e => Name(e) == "import");
        Assert.Equal(10, Property(import, "records").GetInt64());

        // Nothing from a request anywhere in what was stored.
        var stored = string.Join('\n', events.Select(e => e.GetRawText()));
        foreach (var secret in new[] { PathSecret, QuerySecret, HeaderSecret, BodySecret, "token=", "8.5.0", "2.31", "de-DE", "en-US", "q=0.9", "The failing route failed" })
        {
            Assert.DoesNotContain(secret, stored, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("DO_NOT_TRACK", "1")]
    [InlineData("ACME_SERVER_TELEMETRY", "off")]
    public async Task WithTelemetryOffBeforeLaunchTheServiceNeverConnectsAndWritesNoFile(string variable, string value)
    {
        await using var standIn = new FaultyServer(Fault.ServerError);
        using var state = new TemporaryDirectory();
        using var home = new TemporaryDirectory();
        var environment = ServerEnvironment(standIn.BaseAddress, Path.Combine(state.Path, "telemetry"));
        environment[variable] = value;
        environment["HOME"] = home.Path;
        environment["XDG_STATE_HOME"] = null;
        environment["XDG_CONFIG_HOME"] = null;
        await using var server = await AcmeServerProcess.StartAsync(state.Path, environment);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        for (var i = 0; i < 5; i++)
        {
            await SendAsync(http, HttpMethod.Get, "/hello", HttpStatusCode.OK, "curl/8.5.0", "en");
            await SendAsync(http, HttpMethod.Get, "/fail", HttpStatusCode.InternalServerError, "curl/8.5.0", "en");
        }

        await Task.Delay(TimeSpan.FromSeconds(2.5)); // more than two heartbeat and usage intervals
        await server.TerminateAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, standIn.Connections);
        Assert.Empty(Directory.EnumerateFileSystemEntries(state.Path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(home.Path));
        Assert.DoesNotContain("collects anonymous", server.Output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task LoweringConsentThroughAConfigurationReloadStopsSendingAndDeletesTheSpool()
    {
        // A collector that always fails: what the service records is retried, then spooled.
        await using var standIn = new FaultyServer(Fault.ServerError);
        using var workingDirectory = new TemporaryDirectory();
        var stateDirectory = Path.Combine(workingDirectory.Path, "state");
        var settings = Path.Combine(workingDirectory.Path, "appsettings.json");
        await File.WriteAllTextAsync(settings, Settings("anonymous"));
        await using var server = await AcmeServerProcess.StartAsync(workingDirectory.Path, ServerEnvironment(standIn.BaseAddress, stateDirectory));
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        await SendAsync(http, HttpMethod.Get, "/hello", HttpStatusCode.OK, "curl/8.5.0", "en");

        var spool = Path.Combine(stateDirectory, "spool");
        await WaitUntilAsync(() => Directory.Exists(spool) && Directory.EnumerateFiles(spool).Any(), TimeSpan.FromSeconds(60), "nothing was spooled:\n" + server.Output);

        await File.WriteAllTextAsync(settings, Settings("off"));
        await WaitUntilAsync(() => !Directory.EnumerateFiles(spool).Any(), TimeSpan.FromSeconds(10), "the spool was not deleted:\n" + server.Output);

        // Within one interval nothing more is sent, whatever the service does.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var connections = standIn.Connections;
        for (var i = 0; i < 5; i++)
        {
            await SendAsync(http, HttpMethod.Get, "/hello", HttpStatusCode.OK, "curl/8.5.0", "en");
        }

        await Task.Delay(TimeSpan.FromSeconds(4));
        await server.TerminateAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(connections, standIn.Connections);
        Assert.False(Directory.Exists(spool) && Directory.EnumerateFiles(spool).Any());
    }

    public static TheoryData<string> Faults() => [.. Enum.GetNames<Fault>()];

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task AMisbehavingCollectorChangesNoAnswerOfTheServiceAndNotItsShutdown(string fault)
    {
        await using var collector = new FaultyServer(Enum.Parse<Fault>(fault));
        using var state = new TemporaryDirectory();
        var environment = ServerEnvironment(collector.BaseAddress, Path.Combine(state.Path, "state"));
        environment["DOTNET_shutdownTimeoutSeconds"] = "5";
        await using var server = await AcmeServerProcess.StartAsync(state.Path, environment);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("Hello from Acme Server", await SendAsync(http, HttpMethod.Get, "/hello", HttpStatusCode.OK, "curl/8.5.0", "en"));
            Assert.Contains("item_not_found", await SendAsync(http, HttpMethod.Get, "/items/999", HttpStatusCode.NotFound, "curl/8.5.0", "en"), StringComparison.Ordinal);
            await SendAsync(http, HttpMethod.Get, "/fail", HttpStatusCode.InternalServerError, "curl/8.5.0", "en");
        }

        await Task.Delay(TimeSpan.FromSeconds(2)); // usage and heartbeats are recorded and sent meanwhile
        var took = await server.TerminateAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, server.ExitCode);
        Assert.True(took < TimeSpan.FromSeconds(5 + 3), $"acme-server took {took} to stop against {fault} (shutdown timeout 5 s).");
        // The failing route's own exception is logged by the service's exception handler; none from Candor.
        Assert.DoesNotContain("at Candor.", server.Output, StringComparison.Ordinal);
    }

    private static Task<CollectorProcess> StartCollectorAsync(string dataDirectory) =>
        CollectorProcess.StartAsync(dataDirectory, new Dictionary<string, string?>
        {
            ["Candor__SchemaDirectory"] = AcmeServerProcess.SchemaDirectory,
            ["Candor__Products__acme-server__WriteKey"] = WriteKey,
        });

    private static Dictionary<string, string?> ServerEnvironment(Uri collector, string stateDirectory) => new()
    {
        ["ACME_SERVER_TELEMETRY_ENDPOINT"] = collector.ToString(),
        ["ACME_SERVER_TELEMETRY_WRITE_KEY"] = WriteKey,
        ["Candor__StateDirectory"] = stateDirectory,
        ["Candor__HeartbeatInterval"] = "00:00:01",
        ["Candor__UsageInterval"] = "00:00:01",
        // The sample's appsettings.json (opt-out) is not in the test's working directory, its content root.
        ["Candor__DefaultPolicy"] = "OptOut",
    };

    private static string Settings(string level) =>
        $$"""{ "Candor": { "Telemetry": "{{level}}", "HeartbeatInterval": "00:00:01", "UsageInterval": "00:00:01" } }""";

    private static string Records(int count) => string.Concat(Enumerable.Repeat(BodySecret + "\n", count));

    private static async Task<string> SendAsync(HttpClient http, HttpMethod method, string path, HttpStatusCode expected, string userAgent, string language, string? body = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        request.Headers.TryAddWithoutValidation("Accept-Language", language);
        request.Headers.TryAddWithoutValidation("X-Api-Secret", HeaderSecret);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "text/plain");
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return text;
    }

    private static async Task<JsonElement[]> WaitForAsync(CollectorProcess collector, Func<JsonElement[], bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var events = await collector.ReadEventsAsync("acme-server", 10_000);
            if (done(events))
            {
                return events;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The collector holds: " + string.Join('\n', events.Select(e => e.GetRawText())) + "\n" + collector.Output);
            }

            await Task.Delay(250);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(200);
        }
    }

    private static string? Name(JsonElement e) => e.GetProperty("name").GetString();

    private static JsonElement Property(JsonElement e, string name) => e.GetProperty("properties").GetProperty(name);
}
