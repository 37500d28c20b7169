using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Candor.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Candor.Collector.Tests;

/// <summary>The real collector, in process, listening on a loopback port, over a fresh data folder.</summary>
internal sealed class TestCollector : IAsyncDisposable
{
    public const string WriteKey = "wk_test_acme_0123456789abcdef";
    public const string AdminToken = "adm_test_0123456789abcdef0123";

    private WebApplication _app = null!;

    private TestCollector(string dataDirectory, bool ownsDirectory)
    {
        DataDirectory = dataDirectory;
        OwnsDirectory = ownsDirectory;
    }

    public string DataDirectory { get; }

    private bool OwnsDirectory { get; }

    public HttpClient Http { get; private set; } = null!;

    public static async Task<TestCollector> StartAsync(string? dataDirectory = null, bool configureKeys = true, params string[] extraArguments)
    {
        var collector = new TestCollector(dataDirectory ?? new TemporaryDirectory("candor-collector").Path, dataDirectory is null);
        List<string> args = ["--urls", "http://127.0.0.1:0", $"--Candor:DataDirectory={collector.DataDirectory}", "--Logging:LogLevel:Default=Warning"];
        if (configureKeys)
        {
            args.Add($"--Candor:AdminToken={AdminToken}");
            args.Add($"--Candor:Products:acme:WriteKey={WriteKey}");
        }

        args.AddRange(extraArguments);
        collector._app = CollectorApp.Build([.. args]);
        await collector._app.StartAsync();
        var address = collector._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        collector.Http = new HttpClient { BaseAddress = new Uri(address) };
        return collector;
    }

    public T Service<T>()
        where T : notnull => _app.Services.GetRequiredService<T>();

    public async Task<HttpResponseMessage> PostAsync(string json, string? writeKey = WriteKey, bool gzip = false)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        return await PostBytesAsync(gzip ? Gzip(bytes) : bytes, writeKey, gzip ? "gzip" : null);
    }

    public async Task<HttpResponseMessage> PostBytesAsync(byte[] body, string? writeKey = WriteKey, string? contentEncoding = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (contentEncoding is not null)
        {
            request.Content.Headers.ContentEncoding.Add(contentEncoding);
        }

        if (writeKey is not null)
        {
            request.Headers.Add("X-Candor-Write-Key", writeKey);
        }

        return await Http.SendAsync(request);
    }

    public async Task<JsonElement[]> ReadEventsAsync(string product = "acme", string adminToken = AdminToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/admin/events?product={product}&limit=1000");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        using var response = await Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return [.. document.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(bytes);
        }

        return output.ToArray();
    }

    public static string Batch(string product = "acme", params Guid[] ids)
    {
        var events = (ids.Length == 0 ? [Guid.CreateVersion7()] : ids).Select(Event);
        return $$"""
            {"sent_at":"2026-11-23T08:00:00Z","context":{"product":"{{product}}","product_version":"1.4.0","session_id":"{{Guid.CreateVersion7()}}"},
             "events":[{{string.Join(",", events)}}]}
            """;
    }

    private static string Event(Guid id) =>
        $$$"""{"id":"{{{id}}}","name":"command","time":"2026-11-23T07:59:00Z","properties":{"command":"run","nodes":3}}""";

    private bool _stopped;

    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (OwnsDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
