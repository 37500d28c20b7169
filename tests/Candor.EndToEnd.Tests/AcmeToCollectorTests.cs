using System.Net;
using System.Text;
using System.Text.Json;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>The whole slice: the real <c>acme</c> binary sending to the real collector process.</summary>
public sealed class AcmeToCollectorTests
{
    private static readonly string AcmeAssembly = RepositoryPaths.ProgramAssembly("Acme.Cli", "acme.dll");

    [Fact]
    public async Task AnAcmeCommandArrivesAtTheCollectorWithItsNameContextAndProperties()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path);

        var result = await RunAcmeAsync(collector, home.Path, "run", "--pipeline", "nightly-load");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Ran pipeline 'nightly-load'", result.StandardOutput, StringComparison.Ordinal);
        var stored = Assert.Single(await collector.ReadEventsAsync());
        Assert.Equal("command", stored.GetProperty("name").GetString());
        var context = stored.GetProperty("context");
        Assert.Equal("acme", context.GetProperty("product").GetString());
        Assert.Equal("1.4.0", context.GetProperty("product_version").GetString());
        // A new install: its first version is the one running now.
        Assert.Equal("1.4.0", context.GetProperty("initial_version").GetString());
        Assert.False(string.IsNullOrEmpty(context.GetProperty("runtime_version").GetString()));
        Assert.Equal(OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsWindows() ? "windows" : "macos", context.GetProperty("os_family").GetString());
        var properties = stored.GetProperty("properties");
        Assert.Equal("run", properties.GetProperty("command").GetString());
        Assert.Equal(0, properties.GetProperty("exit_code").GetInt32());
        Assert.True(properties.GetProperty("duration_ms").GetInt64() >= 0);
        // The pipeline name is the user's data, not usage: it is never sent.
        Assert.DoesNotContain("nightly-load", stored.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhereTheToolRunsArrivesWithItsEventsFromItsEnvironmentAlone()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path);

        var result = await RunAcmeAsync(collector, home.Path, ["run", "--pipeline", "a"], new()
        {
            ["FLY_REGION"] = "AMS",
            ["container"] = "podman",
            ["KUBERNETES_SERVICE_HOST"] = null, // the machine's own, were it a pod, would take precedence
        });

        Assert.Equal(0, result.ExitCode);
        var context = Assert.Single(await collector.ReadEventsAsync()).GetProperty("context");
        Assert.Equal(
            ("fly", "ams", "podman"),
            (context.GetProperty("cloud").GetString(), context.GetProperty("cloud_region").GetString(), context.GetProperty("container").GetString()));
        Assert.False(context.TryGetProperty("cloud_platform", out _));
    }

    [Fact]
    public async Task EventsAreStillThereAfterTheCollectorRestarts()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using (var first = await CollectorProcess.StartAsync(data.Path))
        {
            Assert.Equal(0, (await RunAcmeAsync(first, home.Path, "run", "--pipeline", "a")).ExitCode);
            Assert.Equal(0, (await RunAcmeAsync(first, home.Path, "new", "demo")).ExitCode);
            Assert.Equal(2, (await first.ReadEventsAsync()).Length);
        }

        await using var second = await CollectorProcess.StartAsync(data.Path);
        var commands = (await second.ReadEventsAsync()).Select(e => e.GetProperty("properties").GetProperty("command").GetString()).Order();
        Assert.Equal(["new", "run"], commands);
    }

    [Theory]
    [InlineData(null, "missing_write_key")]
    [InlineData("wk_wrong_0123456789abcdef", "invalid_write_key")]
    public async Task AWrongOrMissingWriteKeyIsRefusedWith401AndStoresNothing(string? writeKey, string expectedCode)
    {
        using var data = new TemporaryDirectory();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        using var client = new HttpClient { BaseAddress = collector.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent(ValidBatch, Encoding.UTF8, "application/json") };
        if (writeKey is not null)
        {
            request.Headers.Add("X-Candor-Write-Key", writeKey);
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(expectedCode, body.RootElement.GetProperty("code").GetString());
        Assert.Empty(await collector.ReadEventsAsync());
    }

    [Fact]
    public async Task AMalformedBodyIsRefusedWith400AndStoresNothing()
    {
        using var data = new TemporaryDirectory();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        using var client = new HttpClient { BaseAddress = collector.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent(ValidBatch[..40], Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Candor-Write-Key", CollectorProcess.WriteKey);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("malformed_body", body.RootElement.GetProperty("code").GetString());
        Assert.Empty(await collector.ReadEventsAsync());
    }

    private const string ValidBatch = """
        {"sent_at":"2026-11-23T08:00:00Z","context":{"product":"acme","session_id":"01a20789-7505-71dd-895e-d6faf18449f4"},
         "events":[{"id":"01a20789-752e-7630-a95b-a94408c398b8","name":"command","time":"2026-11-23T08:00:00Z","properties":{"command":"run"}}]}
        """;

    private static Task<ProgramResult> RunAcmeAsync(CollectorProcess collector, string home, params string[] arguments) =>
        RunAcmeAsync(collector, home, arguments, []);

    private static Task<ProgramResult> RunAcmeAsync(CollectorProcess collector, string home, string[] arguments, Dictionary<string, string?> extra)
    {
        var environment = TemporaryHome.VariablesFor(home);
        foreach (var (name, value) in extra)
        {
            environment[name] = value;
        }

        environment["ACME_TELEMETRY_ENDPOINT"] = collector.BaseAddress.ToString();
        environment["ACME_TELEMETRY_WRITE_KEY"] = CollectorProcess.WriteKey;
        // Consent given explicitly: this slice is about delivery; the first-run rules have their own tests.
        environment["ACME_TELEMETRY"] = "anonymous";
        // A generous budget: this test is about the slice, not exit latency, and CI is slow.
        environment["ACME_FLUSH_MS"] = "5000";
        return ProgramProcess.RunAsync(AcmeAssembly, arguments, home, environment);
    }
}
