using Candor.Hosting.Tests.Fakes;
using Candor.TestSupport;
using Microsoft.Extensions.Options;

namespace Candor.Hosting.Tests;

/// <summary>A misconfigured service fails when its host starts, with every problem named by its option.</summary>
public sealed class OptionsValidationTests
{
    [Fact]
    public async Task AServiceWithoutAProductNameFailsAtStartNamingTheOption()
    {
        using var environment = new FakeEnvironment();
        await using var service = TestService.Build(environment, new Uri("http://127.0.0.1:9/"), new Dictionary<string, string?> { ["ProductName"] = "" });

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(service.StartAsync);

        Assert.Contains("CandorServiceOptions.ProductName is required", failure.Message, StringComparison.Ordinal);
        Assert.False(service.Telemetry.IsEnabled(TelemetryPart.Lifecycle));
    }

    [Fact]
    public async Task EveryInvalidOptionIsListedWhenTheHostStarts()
    {
        using var environment = new FakeEnvironment();
        await using var service = TestService.Build(environment, null, new Dictionary<string, string?>
        {
            ["ProductName"] = "Acme Server",
            ["Endpoint"] = "ftp://collector.example/",
            ["DefaultPolicy"] = "Prompt",
            ["Telemetry"] = "sometimes",
            ["HeartbeatInterval"] = "00:00:00.100",
            ["UsageInterval"] = "02:00:00",
            ["EnvironmentPrefix"] = "ACME-SERVER",
            ["StateDirectory"] = "relative/state",
        });

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(service.StartAsync);

        foreach (var option in new[] { "ProductName", "Endpoint", "DefaultPolicy Prompt", "Telemetry", "HeartbeatInterval", "UsageInterval", "EnvironmentPrefix", "StateDirectory" })
        {
            Assert.Contains("CandorServiceOptions." + option, failure.Message, StringComparison.Ordinal);
        }

        Assert.Empty(environment.Files());
    }

    [Fact]
    public async Task ARelativeEndpointIsRefused()
    {
        using var environment = new FakeEnvironment();
        await using var service = TestService.Build(environment, null, new Dictionary<string, string?> { ["Endpoint"] = "/v1/" });

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(service.StartAsync);

        Assert.Contains("CandorServiceOptions.Endpoint '/v1/' must be an absolute http or https address.", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheFlushBudgetIsWhatIsLeftOfTheShutdownTimeoutLessAMarginAndAtMostTenSeconds()
    {
        Assert.Equal(TimeSpan.FromSeconds(10), CandorLifecycleService.FlushBudget(TimeSpan.FromSeconds(30), TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromMilliseconds(300), CandorLifecycleService.FlushBudget(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(200)));
        Assert.Equal(TimeSpan.FromMilliseconds(1300), CandorLifecycleService.FlushBudget(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(200)));
        Assert.Equal(TimeSpan.FromSeconds(6.5), CandorLifecycleService.FlushBudget(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2)));
        Assert.Equal(TimeSpan.Zero, CandorLifecycleService.FlushBudget(TimeSpan.FromMilliseconds(400), TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(10), CandorLifecycleService.FlushBudget(Timeout.InfiniteTimeSpan, TimeSpan.FromHours(1)));
    }
}
