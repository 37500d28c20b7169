using Candor.Collector.Tests.Analytics;
using Candor.Collector.Tests.Storage.DuckDb;
using Candor.TestSupport;
using Microsoft.Playwright;

namespace Candor.Dashboard.Tests;

/// <summary>The dashboard under the viewer token, in a real headless Chromium against the real collector process.</summary>
public sealed class ViewerBrowserTests
{
    private const string ViewerToken = "vwr_test_0123456789abcdef0123";

    [Fact]
    public async Task AViewerSeesTheRoleKAnonymousFiguresAndNoInstallsOrQuarantine()
    {
        using var data = new TemporaryDirectory("candor-dashboard-viewer");
        await DuckDbAnalyticsSeeder.SeedAsync(Path.Combine(data.Path, "candor.duckdb"), AnalyticsSeed.Events(DateTime.UtcNow));
        await using var collector = await CollectorProcess.StartAsync(data.Path, new Dictionary<string, string?> { ["Candor__ViewerToken"] = ViewerToken });
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 900 } });
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        var asked = new List<string>();
        page.Request += (_, request) => asked.Add(new Uri(request.Url).AbsolutePath);
        await page.GotoAsync(collector.BaseAddress.ToString());

        await page.FillAsync("#token", ViewerToken);
        await page.ClickAsync("#signin-form button");
        await Assertions.Expect(page.Locator("#dashboard")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("role")).ToContainTextAsync("viewer — k-anonymous answers (k = 5)");
        // The first load (the default range) ends before the range is changed, so it cannot overwrite the next.
        await page.WaitForFunctionAsync("() => document.body.dataset.loaded");
        await page.FillAsync("#from", "2026-10-01");
        await page.FillAsync("#to", "2026-11-20");
        await ApplyAsync(page);

        // Twelve installs in all: shown. Neither the installs list nor quarantine is on the page or asked for.
        await Assertions.Expect(page.GetByTestId("installs")).ToHaveTextAsync("12");
        Assert.True(await page.GetByTestId("installs-table").IsHiddenAsync());
        Assert.True(await page.GetByTestId("rejected").IsHiddenAsync());
        Assert.True(await page.GetByTestId("quarantine-schemas").IsHiddenAsync());
        Assert.DoesNotContain(asked, path => path.EndsWith("/installs", StringComparison.Ordinal) || path.EndsWith("/quarantine", StringComparison.Ordinal));

        // Narrowed to macOS, one install: every figure says so instead of showing it.
        await page.SelectOptionAsync("#os", "macos");
        await ApplyAsync(page);
        await Assertions.Expect(page.GetByTestId("installs")).ToHaveTextAsync("fewer than 5 installs");
        await Assertions.Expect(page.GetByTestId("runs")).ToHaveTextAsync("fewer than 5 installs");
        Assert.Empty(scriptErrors);
    }

    [Fact]
    public async Task TheAdminSeesTheRoleAndTheInstallsTable()
    {
        using var data = new TemporaryDirectory("candor-dashboard-admin");
        await DuckDbAnalyticsSeeder.SeedAsync(Path.Combine(data.Path, "candor.duckdb"), AnalyticsSeed.Events(DateTime.UtcNow));
        await using var collector = await CollectorProcess.StartAsync(data.Path, new Dictionary<string, string?> { ["Candor__ViewerToken"] = ViewerToken });
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await DashboardBrowserTests.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 900 } });
        await page.GotoAsync(collector.BaseAddress.ToString());

        await page.FillAsync("#token", CollectorProcess.AdminToken);
        await page.ClickAsync("#signin-form button");
        await Assertions.Expect(page.GetByTestId("role")).ToContainTextAsync("admin");
        await page.WaitForFunctionAsync("() => document.body.dataset.loaded");
        await page.FillAsync("#from", "2026-10-01");
        await page.FillAsync("#to", "2026-11-20");
        await ApplyAsync(page);

        await Assertions.Expect(page.GetByTestId("installs-table")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#installs tr")).ToHaveCountAsync(12);
        await Assertions.Expect(page.GetByTestId("rejected")).ToBeVisibleAsync();
    }

    private static async Task ApplyAsync(IPage page)
    {
        var before = await page.EvaluateAsync<string?>("() => document.body.dataset.loaded ?? null");
        await page.ClickAsync("#apply");
        await page.WaitForFunctionAsync("before => document.body.dataset.loaded && document.body.dataset.loaded !== before", before);
    }
}
