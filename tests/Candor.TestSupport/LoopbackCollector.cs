using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;
using Candor.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Candor.TestSupport;

/// <summary>A request as the fake collector saw it.</summary>
internal sealed record ReceivedRequest(string? WriteKey, string? ContentEncoding, EventBatch Batch, DateTimeOffset At);

/// <summary>
/// A real HTTP server on a loopback port that records every batch it receives and answers with the
/// status the test chooses (200 by default).
/// </summary>
internal sealed class LoopbackCollector : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackCollector(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    /// <summary>Decides the answer to each request; default 200.</summary>
    public Func<ReceivedRequest, IResult> Respond { get; set; } = _ => Results.Ok();

    public Uri BaseAddress { get; private set; } = null!;

    public IEnumerable<TelemetryEvent> Events => Requests.SelectMany(r => r.Batch.Events);

    public static async Task<LoopbackCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var collector = new LoopbackCollector(app);
        app.MapPost(ProtocolConstants.EventsPath, async (HttpContext http) =>
        {
            Stream body = http.Request.Body;
            var encoding = http.Request.Headers.ContentEncoding.ToString();
            if (encoding == "gzip")
            {
                body = new GZipStream(body, CompressionMode.Decompress);
            }

            var batch = await JsonSerializer.DeserializeAsync(body, ProtocolJsonContext.Default.EventBatch);
            var request = new ReceivedRequest(http.Request.Headers[ProtocolConstants.WriteKeyHeader].ToString(), encoding, batch!, DateTimeOffset.UtcNow);
            collector.Requests.Enqueue(request);
            return collector.Respond(request);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        collector.BaseAddress = new Uri(address);
        return collector;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
