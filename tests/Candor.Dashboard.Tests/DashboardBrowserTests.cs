using Candor.Collector.Tests.Analytics;
using Candor.Collector.Tests.Storage.DuckDb;
using Candor.TestSupport;
using Microsoft.Playwright;

namespace Candor.Dashboard.Tests;

/// <summary>
/// The dashboard in a real headless Chromium against the real collector process over a seeded
/// DuckDB file. Saves a screenshot to <c>artifacts/test-results/dashboard.png</c>.
/// </summary>
public sealed class DashboardBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task AnOperatorSignsInSeesTheChartsAndFiltersChangeTheNumbers()
    {
        using var data = new TemporaryDirectory("candor-dashboard");
        await DuckDbAnalyticsSeeder.SeedAsync(Path.Combine(data.Path, "candor.duckdb"), AnalyticsSeed.Events(DateTime.UtcNow));
        await DuckDbAnalyticsSeeder.SeedQuarantineAsync(Path.Combine(data.Path, "candor.duckdb"), AnalyticsSeed.Quarantine());
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 900 } });
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        var policyMessages = WatchContentSecurityPolicy(page);
        await page.AddInitScriptAsync(RecordViolations);

        var loaded = await page.GotoAsync(collector.BaseAddress.ToString());
        Assert.Contains("frame-ancestors 'none'", await loaded!.HeaderValueAsync("content-security-policy"), StringComparison.Ordinal);

        // A wrong token is refused.
        await page.FillAsync("#token", "adm_wrong_0123456789abcdef");
        await page.ClickAsync("#signin-form button");
        await Assertions.Expect(page.Locator("#signin-error")).ToContainTextAsync("refused");
        Assert.True(await page.Locator("#dashboard").IsHiddenAsync());

        // The right one shows the dashboard; pick the seeded range.
        await page.FillAsync("#token", CollectorProcess.AdminToken);
        await page.ClickAsync("#signin-form button");
        await Assertions.Expect(page.Locator("#dashboard")).ToBeVisibleAsync();
        await page.FillAsync("#from", "2026-10-01");
        await page.FillAsync("#to", "2026-11-20");
        await ApplyAsync(page);

        await Assertions.Expect(page.GetByTestId("installs")).ToHaveTextAsync("12");
        await Assertions.Expect(page.GetByTestId("runs")).ToHaveTextAsync("26");
        await Assertions.Expect(page.GetByTestId("failure-rate")).ToHaveTextAsync("7.7%");
        await Assertions.Expect(page.GetByTestId("retention")).ToHaveTextAsync("58.3% / 0.0%");
        await Assertions.Expect(page.Locator("#commands tr").First).ToContainTextAsync("run");
        await Assertions.Expect(page.GetByTestId("rejected")).ToHaveTextAsync("3");
        await Assertions.Expect(page.Locator("#quarantine-schemas tr").First).ToHaveTextAsync("acme/command/1-0-0" + "2");
        Assert.Equal(["undeclared_property", "unknown_schema"], await page.EvaluateAsync<string[]>("() => Chart.getChart('chart-quarantine').data.labels"));
        var charts = await page.EvaluateAsync<int>("() => Object.keys(Chart.instances).length");
        Assert.True(charts >= 11, $"Only {charts} charts were drawn.");
        var drawnPoints = await page.EvaluateAsync<int>(
            "() => Chart.getChart('chart-active').data.datasets[0].data.reduce((a, b) => a + b, 0)");
        Assert.Equal(6 + 6 + 5 + 1 + 1, drawnPoints);

        var screenshot = Path.Combine(RepositoryPaths.Root, "artifacts", "test-results", "dashboard.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });

        // Narrow to Windows: five installs, all in CI.
        await page.SelectOptionAsync("#os", "windows");
        await ApplyAsync(page);
        await Assertions.Expect(page.GetByTestId("installs")).ToHaveTextAsync("5");
        await Assertions.Expect(page.GetByTestId("runs")).ToHaveTextAsync("5");

        Assert.Empty(scriptErrors);
        Assert.True(new FileInfo(screenshot).Length > 10_000);

        // Everything above ran under the page's Content-Security-Policy without one violation...
        Assert.Empty(await page.EvaluateAsync<string[]>("() => window.candorPolicyViolations"));
        Assert.Empty(policyMessages);
        // ...and the watch is real: an inline style, which the policy forbids, is reported.
        await page.EvaluateAsync("() => { const style = document.createElement('style'); style.textContent = 'body { color: red }'; document.head.append(style); }");
        await page.WaitForFunctionAsync("() => window.candorPolicyViolations.some(v => v.startsWith('style-src'))");
    }

    [Fact]
    public async Task AnotherPageCannotShowTheDashboardInAFrame()
    {
        using var data = new TemporaryDirectory("candor-dashboard");
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchAsync(playwright);
        var page = await browser.NewPageAsync();

        // The health answer (JSON, no framing rule) is the control: framing the collector works, only
        // the dashboard refuses it. Setting the content waits for both frames to finish loading.
        await page.SetContentAsync($"""
            <iframe id="dashboard" src="{collector.BaseAddress}"></iframe>
            <iframe id="health" src="{collector.BaseAddress}healthz"></iframe>
            """);

        await Assertions.Expect(page.FrameLocator("#health").Locator("body")).ToContainTextAsync("ok");
        Assert.Equal(0, await page.FrameLocator("#dashboard").Locator("#signin-form").CountAsync());
    }

    /// <summary>Runs in every document before its own scripts: keeps each Content-Security-Policy
    /// violation the browser reports, as "directive blocked-uri".</summary>
    private const string RecordViolations = """
        window.candorPolicyViolations = [];
        document.addEventListener("securitypolicyviolation", (e) => window.candorPolicyViolations.push(e.violatedDirective + " " + e.blockedURI));
        """;

    /// <summary>Console messages about the Content-Security-Policy (Chromium logs each refusal there too).</summary>
    private static List<string> WatchContentSecurityPolicy(IPage page)
    {
        var messages = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                lock (messages)
                {
                    messages.Add(message.Text);
                }
            }
        };
        return messages;
    }

    private static async Task ApplyAsync(IPage page)
    {
        var before = await page.EvaluateAsync<string?>("() => document.body.dataset.loaded ?? null");
        await page.ClickAsync("#apply");
        await page.WaitForFunctionAsync("before => document.body.dataset.loaded && document.body.dataset.loaded !== before", before);
    }

    internal static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: ./test.sh installs Debian's chromium package.");
        }

        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // A fresh profile each run (Playwright's default); no network chatter on a closed machine.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }
}
