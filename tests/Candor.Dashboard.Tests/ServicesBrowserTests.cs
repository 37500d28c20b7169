using Candor.Collector.Tests.Analytics;
using Candor.Collector.Tests.Storage.DuckDb;
using Candor.TestSupport;
using Microsoft.Playwright;

namespace Candor.Dashboard.Tests;

/// <summary>
/// The dashboard's Services section in a real headless Chromium against the real collector process
/// over a seeded service (<see cref="ServicesSeed"/>, k = 3). Saves a screenshot to
/// <c>artifacts/test-results/dashboard-services.png</c>.
/// </summary>
public sealed class ServicesBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task AnOperatorSeesTheServicesRoutesWithTheirFiguresAndNoServicesForATool()
    {
        using var data = new TemporaryDirectory("candor-dashboard-services");
        var database = Path.Combine(data.Path, "candor.duckdb");
        await DuckDbServicesSeeder.SeedAsync(database, DateTime.UtcNow);
        await using var collector = await CollectorProcess.StartAsync(data.Path, new Dictionary<string, string?> { ["Candor__Analytics__MinimumGroupSize"] = "3" });
        using var playwright = await Playwright.CreateAsync();
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: ./test.sh installs Debian's chromium package.");
        }

        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 900 } });
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        var policyMessages = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                lock (policyMessages)
                {
                    policyMessages.Add(message.Text);
                }
            }
        };
        await page.AddInitScriptAsync("""
            window.candorPolicyViolations = [];
            document.addEventListener("securitypolicyviolation", (e) => window.candorPolicyViolations.push(e.violatedDirective + " " + e.blockedURI));
            """);

        await page.GotoAsync(collector.BaseAddress.ToString());
        await page.FillAsync("#token", CollectorProcess.AdminToken);
        await page.ClickAsync("#signin-form button");
        await Assertions.Expect(page.Locator("#dashboard")).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("() => document.body.dataset.loaded");

        // The product list is sorted: "acme" (one stray request in the seed) first, then the service.
        await page.SelectOptionAsync("#product", ServicesSeed.Product);
        await ApplyAsync(page);

        await Assertions.Expect(page.GetByTestId("services")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("services-live")).ToHaveTextAsync("2");
        await Assertions.Expect(page.GetByTestId("services-started")).ToHaveTextAsync("5");
        await Assertions.Expect(page.GetByTestId("services-startup")).ToHaveTextAsync("1,000 / 4,240 ms");
        await Assertions.Expect(page.GetByTestId("services-uptime")).ToHaveTextAsync("1.5 h");
        var routes = page.Locator("#routes tr");
        await Assertions.Expect(routes).ToHaveCountAsync(3);
        Assert.Equal(["other", "", "105", "4.8%", "1", "1"], await Cells(routes.Nth(0)));
        Assert.Equal(["/items/{id}", "GET", "20", "10.0%", "5", "100"], await Cells(routes.Nth(1)));
        Assert.Equal(["/import", "POST", "8", "50.0%", "1000", ">10000"], await Cells(routes.Nth(2)));
        Assert.Equal(["import_too_large", "413", "4"], await Cells(page.Locator("#http-errors tr").Nth(1)));
        Assert.Equal(["curl/8", "15", "3"], await Cells(page.Locator("#clients tr").First));
        Assert.Equal(["en", "15", "3"], await Cells(page.Locator("#languages tr").First));
        await Assertions.Expect(page.Locator("#service-errors")).ToContainTextAsync("E_DB");

        var screenshot = Path.Combine(RepositoryPaths.Root, "artifacts", "test-results", "dashboard-services.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });

        // A version no install runs: no service events, and the section goes away.
        await page.FillAsync("#version", "9.9.9");
        await ApplyAsync(page);
        await Assertions.Expect(page.GetByTestId("services")).ToBeHiddenAsync();

        Assert.Empty(scriptErrors);
        Assert.Empty(await page.EvaluateAsync<string[]>("() => window.candorPolicyViolations"));
        Assert.Empty(policyMessages);
    }

    private static async Task<string[]> Cells(ILocator row) =>
        [.. (await row.Locator("td").AllTextContentsAsync()).Select(t => t.Trim())];

    private static async Task ApplyAsync(IPage page)
    {
        var before = await page.EvaluateAsync<string?>("() => document.body.dataset.loaded ?? null");
        await page.ClickAsync("#apply");
        await page.WaitForFunctionAsync("before => document.body.dataset.loaded && document.body.dataset.loaded !== before", before);
    }
}
