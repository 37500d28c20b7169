using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Candor.Collector.Analytics;
using Candor.Collector.Tests.Ingestion;
using Candor.Collector.Tests.Storage.DuckDb;
using Candor.TestSupport;
using Microsoft.AspNetCore.Routing;

namespace Candor.Collector.Tests.Analytics;

/// <summary>
/// Under the viewer token every analytics answer is k-anonymous (issue 24, acceptance 4): every
/// analytics endpoint the app maps (read from its EndpointDataSource, so one added later is checked
/// or fails here), narrowed by every filter to one install, shows no figure at all and no install id;
/// unnarrowed, no figure from fewer than k installs. Everything else under /v1/admin is the admin's.
/// </summary>
public sealed class ViewerKAnonymityTests
{
    [Fact]
    public async Task NoViewerAnswerOnDuckDbHoldsAFigureFromFewerThanKInstallsOrAnInstallId()
    {
        using var data = new TemporaryDirectory("candor-viewer");
        await DuckDbAnalyticsSeeder.SeedAsync(Path.Combine(data.Path, "candor.duckdb"), ViewerSeed.Events(DateTime.UtcNow));
        await using var collector = await TestCollector.StartAsync(data.Path, settings: [$"--Candor:ViewerToken={ViewerChecks.ViewerToken}"]);

        await ViewerChecks.AssertEveryAnswerIsKAnonymousAsync(collector);
    }

    [Fact]
    public async Task TheViewerTokenIsRefusedWhereOnlyTheAdminReadsAndAWrongTokenEverywhere()
    {
        await using var collector = await TestCollector.StartAsync(settings: [$"--Candor:ViewerToken={ViewerChecks.ViewerToken}"]);

        await ViewerChecks.AssertAdminOnlyEndpointsRefuseTheViewerAsync(collector);
        foreach (var path in new[] { "/v1/admin/analytics/summary?product=acme", "/v1/admin/events?product=acme" })
        {
            using var wrong = await ViewerChecks.GetAsync(collector, path, "vwr_wrong_0123456789abcdef");
            await IngestEndpointTests.AssertErrorAsync(wrong, HttpStatusCode.Unauthorized, "invalid_admin_token");
        }

        // The admin still reads what the viewer may not.
        using var installs = await ViewerChecks.GetAsync(collector, "/v1/admin/analytics/installs?product=acme", TestCollector.AdminToken);
        Assert.Equal(HttpStatusCode.OK, installs.StatusCode);
        using var role = JsonDocument.Parse(await (await ViewerChecks.GetAsync(collector, "/v1/admin/analytics/role", TestCollector.AdminToken)).Content.ReadAsStringAsync());
        Assert.Equal("admin", role.RootElement.GetProperty("role").GetString());
    }

    [Fact]
    public async Task WithoutAViewerTokenConfiguredNoTokenButTheAdminsReads()
    {
        await using var collector = await TestCollector.StartAsync();

        using var response = await ViewerChecks.GetAsync(collector, "/v1/admin/analytics/summary?product=acme", ViewerChecks.ViewerToken);

        await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "invalid_admin_token");
    }
}

/// <summary>The checks the viewer tests run on every storage engine.</summary>
internal static class ViewerChecks
{
    public const string ViewerToken = "vwr_test_0123456789abcdef0123";

    private const string Analytics = "/v1/admin/analytics";

    // The analytics endpoints the viewer reads, and how each is asked. An endpoint missing here fails the test.
    private static readonly Dictionary<string, string[]> Readable = new(StringComparer.Ordinal)
    {
        ["/summary"] = ["/summary"],
        ["/active"] = ["/active", "/active?interval=week", "/active?interval=month"],
        ["/new-installs"] = ["/new-installs", "/new-installs?interval=week"],
        ["/retention"] = ["/retention"],
        ["/versions"] = ["/versions", "/versions?interval=week"],
        ["/commands"] = ["/commands"],
        ["/operations"] = ["/operations"],
        ["/services"] = ["/services"],
        ["/numeric"] = ["/numeric?event=command&property=duration_ms", "/numeric?event=lone_event&property=files"],
        ["/breakdown/{dimension}"] = [.. Enum.GetNames<Dimension>().Select(n => "/breakdown/" + Kebab(n))],
    };

    // Answers that take no common query: the role, the product names, and live instances (judged now, unfiltered).
    private static readonly HashSet<string> Unfiltered = new(StringComparer.Ordinal) { "/role", "/products", "/live" };

    private static readonly string[] AdminOnly = ["/v1/admin/analytics/installs", "/v1/admin/analytics/quarantine"];

    public static async Task AssertEveryAnswerIsKAnonymousAsync(TestCollector collector)
    {
        var routes = AnalyticsRoutes(collector);
        Assert.Contains("/summary", routes);
        var unknown = routes.Where(r => !Readable.ContainsKey(r) && !Unfiltered.Contains(r) && !AdminOnly.Contains(Analytics + r)).ToList();
        Assert.True(unknown.Count == 0, $"Analytics endpoints this test does not know, so cannot check for the viewer: {string.Join(", ", unknown)}");

        var today = ViewerSeed.Today;
        var range = $"product=acme&from={Day(today.AddDays(-20))}&to={Day(today)}";
        var lone = Day(ViewerSeed.LoneDay);
        var narrowings = new[]
        {
            $"{range}&country=FR", $"{range}&version=3.0.0", $"{range}&os=macos", $"{range}&command=lonely", $"{range}&ci=true",
            $"product=acme&from={lone}&to={lone}",
            $"product=acme&from={lone}&to={lone}&country=FR&version=3.0.0&os=macos&command=lonely&ci=true",
        };

        foreach (var route in routes.Where(Readable.ContainsKey))
        {
            foreach (var ask in Readable[route])
            {
                var separator = ask.Contains('?', StringComparison.Ordinal) ? "&" : "?";
                // Over everyone: figures from k installs or more only; the lone install's values only folded away.
                var whole = await ReadAsync(collector, Analytics + ask + separator + range);
                AssertNoGroupBelowK(whole, ask);
                // Narrowed to the lone install: no figure at all, and a marker saying why.
                foreach (var narrowing in narrowings)
                {
                    var narrowed = await ReadAsync(collector, Analytics + ask + separator + narrowing);
                    AssertNoFigure(narrowed, $"{ask} ({narrowing})");
                }
            }
        }

        // The unfiltered answers: the role, products, and live instances, where the lone install's country is folded and withheld.
        var role = await ReadAsync(collector, Analytics + "/role");
        Assert.Equal(("viewer", ViewerSeed.K), (role.GetProperty("role").GetString(), role.GetProperty("k").GetInt32()));
        Assert.Equal(["acme"], (await ReadAsync(collector, Analytics + "/products")).EnumerateArray().Select(p => p.GetString()));
        var live = await ReadAsync(collector, Analytics + "/live?product=acme");
        AssertNoGroupBelowK(live, "/live");
        Assert.Equal(ViewerSeed.Group.Length + 1, live.GetProperty("instances").GetInt64());
        Assert.Contains(live.GetProperty("by_country").EnumerateArray(), r => r.GetProperty("label").GetString() == "other" && Withheld(r).Contains("installs"));

        // The answers are not withheld wholesale: over everyone, the figures show.
        var summary = await ReadAsync(collector, $"{Analytics}/summary?{range}");
        Assert.Equal(ViewerSeed.Group.Length + 1, summary.GetProperty("installs").GetInt64());
        var countries = await ReadAsync(collector, $"{Analytics}/breakdown/country?{range}");
        Assert.Equal("DE:7,other:withheld", string.Join(",", countries.EnumerateArray().Select(r =>
            r.GetProperty("label").GetString() + ":" + (r.TryGetProperty("installs", out var n) ? n.GetInt64().ToString(CultureInfo.InvariantCulture) : "withheld"))));
        var narrowedSummary = await ReadAsync(collector, $"{Analytics}/summary?{range}&country=FR");
        Assert.Equal((ViewerSeed.K, true), (narrowedSummary.GetProperty("k").GetInt32(), Withheld(narrowedSummary).Contains("installs")));

        await AssertAdminOnlyEndpointsRefuseTheViewerAsync(collector);
    }

    public static async Task AssertAdminOnlyEndpointsRefuseTheViewerAsync(TestCollector collector)
    {
        // Every endpoint under /v1/admin that is not one of the viewer's analytics answers.
        var viewer = AnalyticsRoutes(collector).Where(r => Readable.ContainsKey(r) || Unfiltered.Contains(r)).Select(r => Analytics + r).ToHashSet();
        var adminOnly = Routes(collector).Where(r => r.StartsWith("/v1/admin", StringComparison.Ordinal) && !viewer.Contains(r)).ToList();
        Assert.Superset(new HashSet<string>(["/v1/admin/events", "/v1/admin/quarantine", .. AdminOnly]), adminOnly.ToHashSet());
        foreach (var route in adminOnly)
        {
            using var response = await GetAsync(collector, route + $"?product=acme&limit=10&from={Day(ViewerSeed.Today)}", ViewerToken);
            await IngestEndpointTests.AssertErrorAsync(response, HttpStatusCode.Forbidden, "admin_only");
        }
    }

    public static async Task<HttpResponseMessage> GetAsync(TestCollector collector, string pathAndQuery, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await collector.Http.SendAsync(request);
    }

    private static async Task<JsonElement> ReadAsync(TestCollector collector, string pathAndQuery)
    {
        using var response = await GetAsync(collector, pathAndQuery, ViewerToken);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{pathAndQuery}: {(int)response.StatusCode} {body}");
        foreach (var install in ViewerSeed.Group.Append(ViewerSeed.Lone))
        {
            Assert.DoesNotContain(install.ToString(), body, StringComparison.OrdinalIgnoreCase);
        }

        using var document = JsonDocument.Parse(body);
        return document.RootElement.Clone();
    }

    // Narrowed to one install: no number but k, no value only the lone install has, and a withheld marker wherever something was left out.
    private static void AssertNoFigure(JsonElement answer, string what)
    {
        foreach (var (path, name, value) in Walk(answer, "$"))
        {
            Assert.False(value.ValueKind == JsonValueKind.Number && name != "k", $"{what}: {path} = {value} is a figure from fewer than k installs.");
            Assert.False(value.ValueKind == JsonValueKind.String && ViewerSeed.LoneValues.Contains(value.GetString()), $"{what}: {path} names the lone install's value {value}.");
            Assert.False(value.ValueKind == JsonValueKind.String && name.EndsWith("_ms", StringComparison.Ordinal), $"{what}: {path} = {value} is a figure from fewer than k installs.");
            Assert.False(name is "min" or "max", $"{what}: {path}: the viewer never sees a minimum or maximum.");
        }

        if (answer.ValueKind == JsonValueKind.Object && answer.EnumerateObject().Any(p => p.Value.ValueKind is not (JsonValueKind.Array or JsonValueKind.Object) && p.Name is not ("as_of" or "since")))
        {
            Assert.True(Withheld(answer).Count > 0, $"{what}: figures left out without a withheld marker.");
        }
    }

    // Over everyone: every row, point and answer is from k installs or more or withheld; the lone install's values are only folded.
    private static void AssertNoGroupBelowK(JsonElement answer, string what)
    {
        foreach (var (path, name, value) in Walk(answer, "$"))
        {
            if (name is "installs" or "instances" or "live_installs" or "started_installs" or "command_installs" && value.ValueKind == JsonValueKind.Number)
            {
                Assert.True(value.GetInt64() >= ViewerSeed.K, $"{what}: {path} = {value} installs, fewer than k.");
            }

            Assert.False(value.ValueKind == JsonValueKind.String && ViewerSeed.LoneValues.Contains(value.GetString()), $"{what}: {path} names the lone install's value {value}.");
            Assert.False(name is "min" or "max", $"{what}: {path}: the viewer never sees a minimum or maximum.");
        }
    }

    private static List<string> Withheld(JsonElement element) =>
        element.TryGetProperty("withheld", out var list) ? [.. list.EnumerateArray().Select(w => w.GetString()!)] : [];

    private static IEnumerable<(string Path, string Name, JsonElement Value)> Walk(JsonElement element, string path, string name = "")
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "withheld")
                    {
                        continue;
                    }

                    foreach (var found in Walk(property.Value, path + "." + property.Name, property.Name))
                    {
                        yield return found;
                    }
                }

                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    foreach (var found in Walk(item, $"{path}[{i++}]", name))
                    {
                        yield return found;
                    }
                }

                break;
            default:
                yield return (path, name, element);
                break;
        }
    }

    private static List<string> AnalyticsRoutes(TestCollector collector) =>
        [.. Routes(collector).Where(r => r.StartsWith(Analytics + "/", StringComparison.Ordinal)).Select(r => r[Analytics.Length..]).Distinct()];

    private static List<string> Routes(TestCollector collector) =>
        [.. collector.Service<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().Select(e => e.RoutePattern.RawText!).Distinct()];

    private static string Day(DateTime day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Kebab(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
