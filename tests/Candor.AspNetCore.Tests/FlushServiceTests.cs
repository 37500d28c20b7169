using Candor.Hosting;
using Candor.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Candor.AspNetCore.Tests;

/// <summary>When the aggregates are recorded: every usage interval, on the container's clock.</summary>
public sealed class FlushServiceTests
{
    [Fact]
    public async Task TheUsageIsRecordedEveryUsageIntervalOnTheContainersClock()
    {
        var time = new FakeTimeProvider();
        await using var service = await TestService.StartAsync(
            app => app.MapGet("/ping", () => "pong"),
            services => services.AddSingleton<TimeProvider>(time).Configure<CandorServiceOptions>(o => o.UsageInterval = TimeSpan.FromSeconds(30)));
        await service.Client.GetAsync("/ping");

        time.Advance(TimeSpan.FromSeconds(29));
        await Task.Delay(50);
        Assert.Empty(service.Sink.Events);

        await AdvanceUntilAsync(time, TimeSpan.FromSeconds(1), () => service.Sink.Events.Count > 0);
        Assert.Equal(1, Assert.Single(service.Sink.Named(EventConventions.HttpRequestsEvent)).Integer("count"));

        await service.Client.GetAsync("/ping");
        await AdvanceUntilAsync(time, TimeSpan.FromSeconds(30), () => service.Sink.Events.Count > 2);
        Assert.Equal(2, service.Sink.Named(EventConventions.HttpRequestsEvent).Count);
    }

    [Fact]
    public async Task WithoutAddCandorRequestsAreServedAndNothingIsRecorded()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddCandorHttpUsage().AddCandorHttpUsage();
        await using var app = builder.Build();
        app.MapGet("/ping", () => "pong");
        await app.StartAsync();
        using var client = app.GetTestClient();

        Assert.Equal("pong", await client.GetStringAsync("/ping"));
        Assert.Single(app.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<HttpUsageFlushService>());
        await app.StopAsync();
    }

    /// <summary>Advances the clock by <paramref name="step"/> until <paramref name="done"/>: the flush
    /// service's delay may not be armed yet when the test first advances.</summary>
    private static async Task AdvanceUntilAsync(FakeTimeProvider time, TimeSpan step, Func<bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        time.Advance(step);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "the usage was not recorded");
            await Task.Delay(20);
            if (!done())
            {
                time.Advance(step); // an interval with no request records nothing
            }
        }
    }
}
