using System.Text.Json;
using Candor.TestSupport;
using Microsoft.Playwright;

namespace Candor.Dashboard.Tests;

/// <summary>
/// The public privacy page in a real headless Chromium against the real collector process, without
/// any token: every registered event and property is there with its description, read from the
/// schema files themselves, and the page loads under the collector's Content-Security-Policy with no
/// error. Saves a screenshot to <c>artifacts/test-results/privacy-page.png</c>.
/// </summary>
public sealed class PrivacyPageBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task AnyoneCanReadEveryRegisteredEventAndPropertyWithItsDescription()
    {
        using var data = new TemporaryDirectory("candor-privacy");
        using var schemas = new TemporaryDirectory("candor-privacy-schemas");
        Write(schemas, "command", "1-0-0", File.ReadAllText(Path.Combine(CollectorProcess.SampleSchemaDirectory, "acme", "command", "1-0-0.json")));
        // Operator text that looks like markup is shown as text, not run.
        Write(schemas, "deploy", "1-0-0", """
            {"description": "A deployment <script>document.title = 'run'</script>.", "type": "object",
             "properties": {
               "target": {"type": "string", "description": "Where to, e.g. <b>staging</b>.", "enum": ["staging", "production"]},
               "replicas": {"type": "integer", "description": "How many copies run.", "minimum": 1, "maximum": 50}},
             "required": ["target"], "additionalProperties": false}
            """);
        await using var collector = await CollectorProcess.StartAsync(data.Path, new Dictionary<string, string?>
        {
            ["Candor__SchemaDirectory"] = schemas.Path,
            ["Candor__Products__acme__RetentionDays"] = "200",
        });
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var problems = new List<string>();
        page.PageError += (_, error) => Add(problems, "page error: " + error);
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning" || message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                Add(problems, $"console {message.Type}: {message.Text} ({message.Location})");
            }
        };
        page.RequestFailed += (_, request) => Add(problems, "request failed: " + request.Url);
        await page.AddInitScriptAsync("""
            window.candorPolicyViolations = [];
            document.addEventListener("securitypolicyviolation", (e) => window.candorPolicyViolations.push(e.violatedDirective + " " + e.blockedURI));
            """);

        var response = await page.GotoAsync(new Uri(collector.BaseAddress, "/privacy/acme").ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });

        Assert.Equal(200, response!.Status);
        Assert.Contains("script-src 'self'", await response.HeaderValueAsync("content-security-policy"), StringComparison.Ordinal);
        var files = Directory.GetFiles(schemas.Combine("acme"), "*.json", SearchOption.AllDirectories);
        var properties = 0;
        foreach (var file in files)
        {
            using var schema = JsonDocument.Parse(File.ReadAllText(file));
            var name = Path.GetFileName(Path.GetDirectoryName(file))!;
            var version = Path.GetFileNameWithoutExtension(file);
            var @event = page.Locator($"article[data-event='{name}']");
            await Assertions.Expect(@event.Locator("h3")).ToHaveTextAsync(name);
            await Assertions.Expect(@event.Locator("p.description").First).ToHaveTextAsync(schema.RootElement.GetProperty("description").GetString()!);
            var section = @event.Locator($"section[data-version='{version}']");
            foreach (var property in schema.RootElement.GetProperty("properties").EnumerateObject())
            {
                var row = section.Locator($"tr[data-property='{property.Name}']");
                await Assertions.Expect(row.Locator("td").First).ToHaveTextAsync(property.Name);
                await Assertions.Expect(row.Locator("td.description")).ToHaveTextAsync(property.Value.GetProperty("description").GetString()!);
                properties++;
            }
        }

        Assert.Equal(3 + 2, properties);
        await Assertions.Expect(page.Locator("tr[data-property='replicas']")).ToContainTextAsync("at least 1; at most 50");
        await Assertions.Expect(page.Locator("tr[data-property='target']")).ToContainTextAsync("one of: \"staging\", \"production\"");
        await Assertions.Expect(page.GetByTestId("tool-variable")).ToHaveTextAsync("ACME_TELEMETRY");
        await Assertions.Expect(page.GetByTestId("retention-days")).ToHaveTextAsync("200");
        await Assertions.Expect(page.GetByTestId("quarantine-retention-days")).ToHaveTextAsync("30");
        Assert.Equal(0, await page.Locator("script").CountAsync());
        Assert.NotEqual("run", await page.TitleAsync());
        // The stylesheet is a file of the collector's own, so the policy lets it apply.
        Assert.Equal("960px", await page.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('main')).maxWidth"));

        var screenshot = Path.Combine(RepositoryPaths.Root, "artifacts", "test-results", "privacy-page.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });

        Assert.Empty(await page.EvaluateAsync<string[]>("() => window.candorPolicyViolations"));
        Assert.Empty(problems);
    }

    private static void Add(List<string> problems, string problem)
    {
        lock (problems)
        {
            problems.Add(problem);
        }
    }

    private static void Write(TemporaryDirectory schemas, string name, string version, string json)
    {
        Directory.CreateDirectory(schemas.Combine("acme", name));
        File.WriteAllText(schemas.Combine("acme", name, version + ".json"), json);
    }

    private static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: ./test.sh installs Debian's chromium package.");
        }

        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }
}
