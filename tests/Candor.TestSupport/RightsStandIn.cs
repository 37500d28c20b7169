using System.Collections.Concurrent;
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

/// <summary>A forget or access request as the stand-in saw it.</summary>
internal sealed record RightsCall(string Path, string? WriteKey, string? Product, string? InstallId, string Body);

/// <summary>The stand-in's answer: a status, a JSON body and, optionally, <c>Retry-After</c> in seconds.</summary>
internal sealed record RightsReply(int Status, string Body = "", int? RetryAfterSeconds = null)
{
    public static RightsReply Forgotten(long events, long quarantine) =>
        new(200, $$"""{"status":"forgotten","events":{{events}},"quarantine":{{quarantine}}}""");

    public static RightsReply Error(int status, string code, string message = "refused") =>
        new(status, $$"""{"code":"{{code}}","message":"{{message}}"}""");
}

/// <summary>
/// A hand-written collector stand-in on a loopback port for the data-rights contract: it records every
/// <c>POST /v1/forget</c> and <c>/v1/access</c> (path, write key, body) and answers what the test chooses
/// (by default a forget that deleted 3 events and 1 quarantined one, and an access answer with one
/// event). Batches on <c>/v1/events</c> are counted and answered 200.
/// </summary>
internal sealed class RightsStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _batches;

    private RightsStandIn(WebApplication app) => _app = app;

    public ConcurrentQueue<RightsCall> Calls { get; } = new();

    public int Batches => Volatile.Read(ref _batches);

    /// <summary>Every request's path, in the order they arrived.</summary>
    public ConcurrentQueue<string> Paths { get; } = new();

    public Func<RightsCall, RightsReply> Respond { get; set; } = call => call.Path == ProtocolConstants.ForgetPath
        ? RightsReply.Forgotten(3, 1)
        : new RightsReply(200, $$$"""{"product":"{{{call.Product}}}","install_id":"{{{call.InstallId}}}","events":[{"name":"command","properties":{"command":"run"}}],"quarantine":[],"truncated":false}""");

    public Uri BaseAddress { get; private set; } = null!;

    public IEnumerable<RightsCall> Forgets => Calls.Where(c => c.Path == ProtocolConstants.ForgetPath);

    public static async Task<RightsStandIn> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var standIn = new RightsStandIn(app);
        app.MapPost(ProtocolConstants.ForgetPath, (HttpContext http) => standIn.AnswerAsync(http, ProtocolConstants.ForgetPath));
        app.MapPost(ProtocolConstants.AccessPath, (HttpContext http) => standIn.AnswerAsync(http, ProtocolConstants.AccessPath));
        app.MapPost(ProtocolConstants.EventsPath, () =>
        {
            Interlocked.Increment(ref standIn._batches);
            standIn.Paths.Enqueue(ProtocolConstants.EventsPath);
            return Results.Ok();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        standIn.BaseAddress = new Uri(address);
        return standIn;
    }

    private async Task AnswerAsync(HttpContext http, string path)
    {
        var body = await new StreamReader(http.Request.Body).ReadToEndAsync();
        string? product = null, installId = null;
        try
        {
            using var json = JsonDocument.Parse(body);
            product = json.RootElement.TryGetProperty("product", out var p) ? p.GetString() : null;
            installId = json.RootElement.TryGetProperty("install_id", out var i) ? i.GetString() : null;
        }
        catch (JsonException)
        {
        }

        var call = new RightsCall(path, http.Request.Headers[ProtocolConstants.WriteKeyHeader].ToString(), product, installId, body);
        Calls.Enqueue(call);
        Paths.Enqueue(path);
        var reply = Respond(call);
        http.Response.StatusCode = reply.Status;
        if (reply.RetryAfterSeconds is { } seconds)
        {
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (reply.Body.Length > 0)
        {
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(reply.Body);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
