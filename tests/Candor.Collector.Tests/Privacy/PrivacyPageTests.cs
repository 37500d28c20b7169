using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Candor.Collector.Privacy;
using Candor.Protocol;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Privacy;

/// <summary>The public privacy page through the real collector: its JSON form against the schema
/// files themselves, the configuration it reports, and its HTML.</summary>
public sealed class PrivacyPageTests
{
    [Fact]
    public async Task TheJsonFormStatesEveryRegisteredEventAndPropertyAsTheSchemaFilesDo()
    {
        using var schemas = WriteSchemas();
        await using var collector = await TestCollector.StartAsync(schemaDirectory: schemas.Path);

        using var page = await ReadJsonAsync(collector, "acme");

        var root = page.RootElement;
        Assert.Equal("acme", root.GetProperty("product").GetString());
        var files = Directory.GetFiles(Path.Combine(schemas.Path, "acme"), "*.json", SearchOption.AllDirectories);
        var events = root.GetProperty("events").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        Assert.Equal(
            files.Select(f => Path.GetFileName(Path.GetDirectoryName(f))!).Distinct().Order(StringComparer.Ordinal),
            events.Keys.Order(StringComparer.Ordinal));
        var compared = 0;
        foreach (var file in files)
        {
            using var schema = JsonDocument.Parse(File.ReadAllText(file));
            var name = Path.GetFileName(Path.GetDirectoryName(file))!;
            var version = Path.GetFileNameWithoutExtension(file);
            var stated = events[name].GetProperty("versions").EnumerateArray().Single(v => v.GetProperty("version").GetString() == version);
            Assert.Equal(schema.RootElement.GetProperty("description").GetString(), stated.GetProperty("description").GetString());
            Assert.Equal(!schema.RootElement.TryGetProperty("additionalProperties", out var additional) || additional.GetBoolean(),
                stated.GetProperty("additional_properties").GetBoolean());
            var required = schema.RootElement.TryGetProperty("required", out var list) ? list.EnumerateArray().Select(r => r.GetString()).ToHashSet() : [];
            var declared = schema.RootElement.GetProperty("properties").EnumerateObject().ToList();
            var properties = stated.GetProperty("properties").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
            Assert.Equal(declared.Select(p => p.Name).Order(StringComparer.Ordinal), properties.Keys.Order(StringComparer.Ordinal));
            foreach (var declaredProperty in declared)
            {
                AssertStatedAsDeclared(declaredProperty.Value, required.Contains(declaredProperty.Name), properties[declaredProperty.Name], $"{name}/{version}/{declaredProperty.Name}");
                compared++;
            }
        }

        Assert.Equal(3 + 2 + 6, compared);
        // The event's own description is the newest version's.
        Assert.Equal("A deployment, second take.", events["deploy"].GetProperty("description").GetString());
        Assert.Equal(["1-0-0", "1-1-0"], events["deploy"].GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("version").GetString()));
    }

    [Fact]
    public async Task RetentionAndTheToolVariableComeFromTheConfiguration()
    {
        await using var collector = await TestCollector.StartAsync(settings:
        [
            "--Candor:Products:acme:RetentionDays=90", "--Candor:Products:acme:QuarantineRetentionDays=7",
            "--Candor:Products:acme:TelemetryVariable=ACME_TELEMETRY_LEVEL",
            "--Candor:Products:my-tool:WriteKey=wk_test_mytool_0123456789abcdef", "--Candor:RetentionInterval=00:30:00",
        ]);

        using var acme = await ReadJsonAsync(collector, "acme");
        using var configuredWithoutSchemas = await ReadJsonAsync(collector, "my-tool");

        Assert.Equal(90, acme.RootElement.GetProperty("retention").GetProperty("event_days").GetInt32());
        Assert.Equal(7, acme.RootElement.GetProperty("retention").GetProperty("quarantine_days").GetInt32());
        Assert.Equal(30, acme.RootElement.GetProperty("retention").GetProperty("check_every_minutes").GetDouble());
        Assert.Equal("ACME_TELEMETRY_LEVEL", acme.RootElement.GetProperty("consent").GetProperty("tool_variable").GetProperty("name").GetString());
        Assert.Equal("DO_NOT_TRACK", acme.RootElement.GetProperty("consent").GetProperty("do_not_track").GetProperty("name").GetString());
        Assert.Equal(
            ["off", "local", "anonymous", "identified", "0 or false", "1 or true"],
            acme.RootElement.GetProperty("consent").GetProperty("tool_variable").GetProperty("values").EnumerateArray().Select(v => v.GetProperty("name").GetString()));
        Assert.Contains("acme telemetry forget", acme.RootElement.GetProperty("consent").GetProperty("commands").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal("/v1/forget", acme.RootElement.GetProperty("rights").GetProperty("forget").GetProperty("path").GetString());
        Assert.Equal("/v1/access", acme.RootElement.GetProperty("rights").GetProperty("access").GetProperty("path").GetString());
        Assert.Equal("acme telemetry show --server", acme.RootElement.GetProperty("rights").GetProperty("access").GetProperty("command").GetString());

        // A product that is configured but has no schema yet: the defaults, and no events.
        var defaults = configuredWithoutSchemas.RootElement;
        Assert.Equal(395, defaults.GetProperty("retention").GetProperty("event_days").GetInt32());
        Assert.Equal(30, defaults.GetProperty("retention").GetProperty("quarantine_days").GetInt32());
        Assert.Equal("MY_TOOL_TELEMETRY", defaults.GetProperty("consent").GetProperty("tool_variable").GetProperty("name").GetString());
        Assert.Empty(defaults.GetProperty("events").EnumerateArray());
    }

    [Fact]
    public async Task TheDerivedFieldsFollowTheGeoIpAndPseudonymOptions()
    {
        string[] plain, enriched;
        string plainAddress, enrichedAddress;
        await using (var collector = await TestCollector.StartAsync())
        {
            using var page = await ReadJsonAsync(collector, "acme");
            plain = Names(page.RootElement.GetProperty("derived"));
            plainAddress = page.RootElement.GetProperty("never_stored")[0].GetString()!;
        }

        await using (var collector = await TestCollector.StartAsync(settings: [$"--Candor:GeoIpDatabase={RepositoryPaths.GeoIpTestDatabase}", "--Candor:PseudonymizeIp=true"]))
        {
            using var page = await ReadJsonAsync(collector, "acme");
            enriched = Names(page.RootElement.GetProperty("derived"));
            enrichedAddress = page.RootElement.GetProperty("never_stored")[0].GetString()!;
        }

        await using (var collector = await TestCollector.StartAsync(settings: ["--Candor:PseudonymizeIp=true"]))
        {
            using var page = await ReadJsonAsync(collector, "acme");
            Assert.Equal(["received_at", "ip_pseudonym"], Names(page.RootElement.GetProperty("derived")));
        }

        Assert.Equal(["received_at"], plain);
        Assert.Equal(["received_at", "country", "region", "ip_pseudonym"], enriched);
        Assert.Contains("derives nothing from it", plainAddress, StringComparison.Ordinal);
        Assert.Contains("only to derive what is listed above", enrichedAddress, StringComparison.Ordinal);
        Assert.All([plainAddress, enrichedAddress], text => Assert.StartsWith("Your IP address.", text, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUnknownProductIsNotFoundAndAnInvalidNameIsRefusedByTheIngestRule()
    {
        await using var collector = await TestCollector.StartAsync();

        using var unknown = await collector.Http.GetAsync("/privacy/nosuchtool");
        using var invalid = await collector.Http.GetAsync("/privacy/-acme");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(ErrorCodes.NotFound, (await ErrorOf(unknown)).Code);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal(ErrorCodes.InvalidProduct, (await ErrorOf(invalid)).Code);
    }

    [Fact]
    public async Task DescriptionsAreHtmlEncodedAndThePageRunsUnderTheCollectorsPolicy()
    {
        using var schemas = new TemporaryDirectory();
        Write(schemas, "acme", "probe", "1-0-0", """
            {"description": "<script>alert('event')</script>", "type": "object",
             "properties": {"x": {"type": "string", "description": "\"><img src=x onerror=alert(1)>", "enum": ["<b>bold</b>"]}},
             "additionalProperties": false}
            """);
        await using var collector = await TestCollector.StartAsync(schemaDirectory: schemas.Path);

        using var response = await collector.Http.GetAsync("/privacy/acme");
        var html = await response.Content.ReadAsStringAsync();
        using var style = await collector.Http.GetAsync(new Uri(response.RequestMessage!.RequestUri!, "../privacy.css"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Contains("Accept", response.Headers.Vary);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<b>", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("style=", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;alert(", html, StringComparison.Ordinal);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, style.StatusCode);
        Assert.Equal("text/css", style.Content.Headers.ContentType!.MediaType);
    }

    [Theory]
    [InlineData(null, "text/html")]
    [InlineData("*/*", "text/html")]
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/html")]
    [InlineData("application/json", "application/json")]
    [InlineData("text/html;q=0.5, application/json", "application/json")]
    public async Task TheFormFollowsTheAcceptHeader(string? accept, string expected)
    {
        await using var collector = await TestCollector.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/privacy/acme");
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        using var response = await collector.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public void EveryContextFieldTheClientSendsIsDescribed()
    {
        var sent = ProtocolJsonContext.Default.EventContext.Properties.Select(p => p.Name);

        Assert.Equal(sent, PrivacyPage.ContextFields.Select(f => f.Name));
        Assert.All(PrivacyPage.ContextFields, f => Assert.False(string.IsNullOrWhiteSpace(f.Description)));
    }

    private static void AssertStatedAsDeclared(JsonElement declared, bool required, JsonElement stated, string where)
    {
        Assert.True(required == stated.GetProperty("required").GetBoolean(), where + ": required");
        var types = declared.TryGetProperty("type", out var type)
            ? type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToArray() : [type.GetString()!]
            : [];
        Assert.Equal(types.Order(StringComparer.Ordinal), stated.GetProperty("type").EnumerateArray().Select(t => t.GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(Text(declared, "description"), Text(stated, "description"));
        Assert.Equal(Text(declared, "pattern"), Text(stated, "pattern"));
        Assert.Equal(Text(declared, "format"), Text(stated, "format"));
        foreach (var (keyword, member) in new[]
        {
            ("minimum", "minimum"), ("maximum", "maximum"), ("exclusiveMinimum", "exclusive_minimum"), ("exclusiveMaximum", "exclusive_maximum"),
            ("multipleOf", "multiple_of"), ("minLength", "min_length"), ("maxLength", "max_length"),
        })
        {
            Assert.True(Number(declared, keyword) == Number(stated, member), $"{where}: {keyword} is {Number(declared, keyword)}, stated {Number(stated, member)}");
        }

        Assert.Equal(
            declared.TryGetProperty("enum", out var values) ? values.EnumerateArray().Select(v => v.GetRawText()).ToArray() : null,
            stated.TryGetProperty("enum", out var statedValues) ? statedValues.EnumerateArray().Select(v => v.GetRawText()).ToArray() : null);
    }

    private static string? Text(JsonElement element, string name) => element.TryGetProperty(name, out var value) ? value.GetString() : null;

    private static decimal? Number(JsonElement element, string name) => element.TryGetProperty(name, out var value) ? value.GetDecimal() : null;

    private static string[] Names(JsonElement fields) => [.. fields.EnumerateArray().Select(f => f.GetProperty("name").GetString()!)];

    private static async Task<JsonDocument> ReadJsonAsync(TestCollector collector, string product)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/privacy/{product}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await collector.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync());
    }

    private static async Task<ErrorResponse> ErrorOf(HttpResponseMessage response) =>
        JsonSerializer.Deserialize(await response.Content.ReadAsStringAsync(), ProtocolJsonContext.Default.ErrorResponse)!;

    /// <summary>The sample's <c>command</c> schema and two more events covering every bound the page states.</summary>
    internal static TemporaryDirectory WriteSchemas()
    {
        var schemas = new TemporaryDirectory();
        Write(schemas, "acme", "command", "1-0-0", File.ReadAllText(Path.Combine(TestCollector.SampleSchemas, "acme", "command", "1-0-0.json")));
        Write(schemas, "acme", "deploy", "1-0-0", """
            {"description": "A deployment.", "type": "object",
             "properties": {
               "target": {"type": "string", "description": "Where to.", "enum": ["staging", "production"]},
               "dry_run": {"type": "boolean", "description": "Whether nothing was changed."}},
             "required": ["target"], "additionalProperties": false}
            """);
        Write(schemas, "acme", "deploy", "1-1-0", """
            {"description": "A deployment, second take.", "type": "object",
             "properties": {
               "target": {"type": "string", "description": "Where to.", "enum": ["staging", "production"]},
               "dry_run": {"type": "boolean", "description": "Whether nothing was changed."},
               "region": {"type": ["string", "null"], "description": "The region, when there is one.", "minLength": 2, "maxLength": 32, "pattern": "^[a-z0-9-]+$"},
               "replicas": {"type": "integer", "description": "How many.", "minimum": 1, "maximum": 50},
               "ratio": {"type": "number", "description": "Share of traffic.", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "multipleOf": 0.25},
               "tier": {"type": "integer", "description": "Service tier.", "enum": [1, 2, 3]}},
             "required": ["target", "replicas"]}
            """);
        // Another product's schema is not on acme's page.
        Write(schemas, "other", "thing", "1-0-0", """{"description": "Not acme's.", "type": "object", "properties": {}}""");
        return schemas;
    }

    private static void Write(TemporaryDirectory schemas, string product, string name, string version, string json)
    {
        Directory.CreateDirectory(schemas.Combine(product, name));
        File.WriteAllText(schemas.Combine(product, name, version + ".json"), json);
    }
}
