using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// The right to erasure across real processes and both stores: two installs of the real <c>acme</c>
/// binary send events (one of each also has an event quarantined), one forgets. Afterwards nothing of
/// it is left (events, quarantine, what analytics count from the rollups), every answer about the other
/// install is what it was, its later events are refused as forgotten, and requests that are not
/// entitled delete nothing.
/// </summary>
public sealed class DataRightsEndToEndTests
{
    private static readonly string AcmeAssembly = RepositoryPaths.ProgramAssembly("Acme.Cli", "acme.dll");

    [Theory]
    [InlineData("duckdb")]
    [InlineData("postgres")]
    public async Task AForgottenInstallLeavesNothingBehindAndTheOtherInstallsAnswersAreUnchanged(string store)
    {
        await using var storage = await StorageUnderTest.StartAsync(store);
        using var data = new TemporaryDirectory();
        using var forgetting = new TemporaryHome();
        using var staying = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path, storage.Environment());
        using var admin = collector.CreateAdminClient();
        using var ingest = new HttpClient { BaseAddress = collector.BaseAddress };

        Assert.Equal(0, (await RunAcmeAsync(collector, forgetting.Path, "run", "--pipeline", "a")).ExitCode);
        Assert.Equal(0, (await RunAcmeAsync(collector, forgetting.Path, "new", "demo")).ExitCode);
        Assert.Equal(0, (await RunAcmeAsync(collector, staying.Path, "run", "--pipeline", "b")).ExitCode);
        var installs = (await collector.ReadEventsAsync()).GroupBy(InstallIdOf).ToDictionary(g => g.Key, g => g.Count());
        var gone = installs.Single(i => i.Value == 2).Key;
        var kept = installs.Single(i => i.Value == 1).Key;
        // One event of each install refused into the quarantine (a property acme's schema does not declare).
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await PostAsync(ingest, Batch(gone, undeclared: true))).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await PostAsync(ingest, Batch(kept, undeclared: true))).StatusCode);
        Assert.Equal(2, (await ReadArrayAsync(admin, "/v1/admin/quarantine?product=acme")).Length);
        var keptBefore = await AnswersAboutAsync(admin, collector, kept);

        // Requests that are not entitled, or name nothing held, delete nothing.
        Assert.Equal(HttpStatusCode.Unauthorized, (await RightsAsync(ingest, "/v1/forget", gone, "wk_wrong_0123456789abcdef")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await RightsAsync(ingest, "/v1/forget", "not-a-uuid")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await RightsAsync(ingest, "/v1/forget", Guid.NewGuid().ToString())).StatusCode);
        Assert.Equal(3, (await collector.ReadEventsAsync()).Length);

        var access = await RightsAsync(ingest, "/v1/access", gone);
        var held = JsonDocument.Parse(await access.Content.ReadAsStringAsync()).RootElement;
        var forget = await RunAcmeAsync(collector, forgetting.Path, "telemetry", "forget");

        Assert.Equal(HttpStatusCode.OK, access.StatusCode);
        Assert.Equal(2, held.GetProperty("events").GetArrayLength());
        Assert.Equal(1, held.GetProperty("quarantine").GetArrayLength());
        Assert.Equal(0, forget.ExitCode);
        Assert.Contains($"deleted 2 events and 1 quarantined events of install {gone}", forget.StandardOutput, StringComparison.Ordinal);
        Assert.All(await collector.ReadEventsAsync(), e => Assert.Equal(kept, InstallIdOf(e)));
        Assert.Single(await ReadArrayAsync(admin, "/v1/admin/quarantine?product=acme"));
        Assert.Equal(keptBefore, await AnswersAboutAsync(admin, collector, kept));
        var summary = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/analytics/summary?product=acme")).RootElement;
        Assert.Equal((1, 1), (summary.GetProperty("installs").GetInt64(), summary.GetProperty("events").GetInt64()));

        // Events of the forgotten install that arrive later (a spool elsewhere, a retry) are refused.
        using var late = await PostAsync(ingest, Batch(gone, undeclared: false));
        Assert.Equal(HttpStatusCode.Gone, late.StatusCode);
        Assert.Contains("\"install_forgotten\"", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Gone, (await RightsAsync(ingest, "/v1/access", gone)).StatusCode);
        Assert.Single(await collector.ReadEventsAsync());
        Assert.Equal(keptBefore, await AnswersAboutAsync(admin, collector, kept));
    }

    [Theory]
    [InlineData("duckdb")]
    [InlineData("postgres")]
    public async Task AForgetAskedWhileTheCollectorWasDownIsCarriedOutWhenItIsBack(string store)
    {
        await using var storage = await StorageUnderTest.StartAsync(store);
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        string gone;
        CollectorProcess stopped;
        await using (var first = await CollectorProcess.StartAsync(data.Path, storage.Environment()))
        {
            Assert.Equal(0, (await RunAcmeAsync(first, home.Path, "run", "--pipeline", "a")).ExitCode);
            gone = InstallIdOf(Assert.Single(await first.ReadEventsAsync()));
            stopped = first;
        }

        var forget = await RunAcmeAsync(stopped, home.Path, "telemetry", "forget");
        var pending = await RunAcmeAsync(stopped, home.Path, "telemetry", "status");
        await using var second = await CollectorProcess.StartAsync(data.Path, storage.Environment());
        using var ingest = new HttpClient { BaseAddress = second.BaseAddress };
        Assert.Equal(0, (await RunAcmeAsync(second, home.Path, "run", "--pipeline", "b")).ExitCode);
        var confirmed = await RunAcmeAsync(second, home.Path, "telemetry", "status");

        Assert.Equal(0, forget.ExitCode);
        Assert.Contains("Deletion on the collector: requested ", pending.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Deletion on the collector", confirmed.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"Privacy page:    {new Uri(second.BaseAddress, "/privacy/acme")}", confirmed.StandardOutput, StringComparison.Ordinal);
        Assert.NotEqual(gone, InstallIdOf(Assert.Single(await second.ReadEventsAsync())));
        Assert.Equal(HttpStatusCode.Gone, (await PostAsync(ingest, Batch(gone, undeclared: false))).StatusCode);
    }

    /// <summary>What the admin API says about one install: its events (ids), its row in the installs
    /// list, and the command usage it alone makes up after the other is forgotten.</summary>
    private static async Task<string> AnswersAboutAsync(HttpClient admin, CollectorProcess collector, string install)
    {
        var events = (await collector.ReadEventsAsync()).Where(e => InstallIdOf(e) == install)
            .Select(e => e.GetProperty("id").GetString()).Order(StringComparer.Ordinal);
        var row = (await ReadArrayAsync(admin, "/v1/admin/analytics/installs?product=acme"))
            .Single(r => r.GetProperty("install_id").GetString() == install).GetRawText();
        var runs = (await ReadArrayAsync(admin, "/v1/admin/analytics/commands?product=acme"))
            .Where(r => r.GetProperty("command").GetString() == "run").Select(r => r.GetRawText());
        return string.Join("\n", [.. events, row, .. runs]);
    }

    private static async Task<JsonElement[]> ReadArrayAsync(HttpClient admin, string path) =>
        await admin.GetFromJsonAsync<JsonElement[]>(path) ?? [];

    private static string InstallIdOf(JsonElement stored) =>
        stored.GetProperty("context").GetProperty("install_id").GetString()!;

    /// <summary>A batch of one acme event sent as the install: a valid command, or one with a property
    /// the schema does not declare (quarantined).</summary>
    private static string Batch(string install, bool undeclared)
    {
        var now = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var extra = undeclared ? ",\"secret\":\"x\"" : "";
        return $$$"""
            {"sent_at":"{{{now}}}","context":{"product":"acme","product_version":"1.4.0","os_family":"linux","install_id":"{{{install}}}"},
             "events":[{"id":"{{{Guid.CreateVersion7()}}}","name":"command","version":"1-0-0","time":"{{{now}}}","properties":{"command":"run","exit_code":0,"duration_ms":7{{{extra}}}}}]}
            """;
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string json)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Candor-Write-Key", CollectorProcess.WriteKey);
        return client.SendAsync(request);
    }

    private static Task<HttpResponseMessage> RightsAsync(HttpClient client, string path, string install, string writeKey = CollectorProcess.WriteKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent($$"""{"product":"acme","install_id":"{{install}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Candor-Write-Key", writeKey);
        return client.SendAsync(request);
    }

    private static Task<ProgramResult> RunAcmeAsync(CollectorProcess collector, string home, params string[] arguments)
    {
        var environment = TemporaryHome.VariablesFor(home);
        environment["ACME_TELEMETRY_ENDPOINT"] = collector.BaseAddress.ToString();
        environment["ACME_TELEMETRY_WRITE_KEY"] = CollectorProcess.WriteKey;
        environment["ACME_TELEMETRY"] = "anonymous";
        environment["ACME_FLUSH_MS"] = "5000";
        return ProgramProcess.RunAsync(AcmeAssembly, arguments, home, environment);
    }
}
