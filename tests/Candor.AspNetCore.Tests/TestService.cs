using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Candor.AspNetCore.Tests;

/// <summary>A minimal-API service with request usage, on the test server or on Kestrel (loopback),
/// recording into a <see cref="FakeUsageSink"/>.</summary>
internal sealed class TestService : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestService(WebApplication app, HttpClient client, FakeUsageSink sink)
    {
        _app = app;
        Client = client;
        Sink = sink;
    }

    public HttpClient Client { get; }

    public FakeUsageSink Sink { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<TestService> StartAsync(
        Action<WebApplication> map,
        Action<IServiceCollection>? configure = null,
        bool withCandor = true,
        bool kestrel = false,
        FakeUsageSink? sink = null)
    {
        sink ??= new FakeUsageSink();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = Environments.Production });
        builder.Logging.ClearProviders();
        if (kestrel)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.UseTestServer();
        }

        builder.Services.AddSingleton<IHttpUsageSink>(sink);
        configure?.Invoke(builder.Services);
        if (withCandor)
        {
            builder.Services.AddCandorHttpUsage();
        }

        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var client = kestrel
            ? new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) }
            : app.GetTestClient();
        return new TestService(app, client, sink);
    }

    /// <summary>Records the current interval, as the flush service does when it is due.</summary>
    public void Flush() => Services.GetRequiredService<HttpUsageAggregator>().Flush(Services.GetRequiredService<IHttpUsageSink>());

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.DisposeAsync();
    }
}
