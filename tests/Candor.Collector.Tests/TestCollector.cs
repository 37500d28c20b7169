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

    /// <summary>The demo tool's schemas, shipped with the sample.</summary>
    public static string SampleSchemas => Path.Combine(RepositoryPaths.Root, "samples", "Acme.Cli", "schemas");

    public static async Task<TestCollector> StartAsync(
        string? dataDirectory = null, bool configureKeys = true, IEnumerable<string>? settings = null, string? schemaDirectory = null,
        Action<WebApplication>? beforeStart = null, Action<IServiceCollection>? services = null)
    {
        var collector = new TestCollector(dataDirectory ?? new TemporaryDirectory("candor-collector").Path, dataDirectory is null);
        List<string> args = ["--urls", "http://127.0.0.1:0", $"--Candor:DataDirectory={collector.DataDirectory}", "--Logging:LogLevel:Default=Warning",
            // In process the GC is the test host's, shared by every collector a test run starts: the
            // trimmer's full collections would pause them all (the real-process tests keep it on).
            "--Candor:MemoryTrimInterval=00:00:00",
            $"--Candor:SchemaDirectory={schemaDirectory ?? SampleSchemas}"];
        args.AddRange(settings ?? []);
        if (configureKeys)
        {
            args.Add($"--Candor:AdminToken={AdminToken}");
            args.Add($"--Candor:Products:acme:WriteKey={WriteKey}");
        }

        collector._app = CollectorApp.Build([.. args], services);
        beforeStart?.Invoke(collector._app);
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

    public Task<JsonElement[]> ReadEventsAsync(string product = "acme", string adminToken = AdminToken) =>
        ReadAdminAsync($"/v1/admin/events?product={product}&limit=10000", adminToken);

    public Task<JsonElement[]> ReadQuarantineAsync(string product = "acme") =>
        ReadAdminAsync($"/v1/admin/quarantine?product={product}&limit=10000", AdminToken);

    private async Task<JsonElement[]> ReadAdminAsync(string path, string adminToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
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

    /// <summary>A batch sent now, whose events happened a second ago.</summary>
    public static string Batch(string product = "acme", params Guid[] ids)
    {
        var events = (ids.Length == 0 ? [Guid.CreateVersion7()] : ids).Select(id => Event(id));
        return BatchOf(product, [.. events]);
    }

    public static string BatchOf(string product, params string[] events) => BatchSentAt(Now, product, events);

    public static string BatchSentAt(string sentAt, string product, params string[] events) => $$"""
        {"sent_at":"{{sentAt}}","context":{"product":"{{product}}","product_version":"1.4.0","session_id":"{{Guid.CreateVersion7()}}"},
         "events":[{{string.Join(",", events)}}]}
        """;

    public static string Event(Guid id, string properties = """{"command":"run","exit_code":0,"duration_ms":3}""", string? time = null, string name = "command", string? version = null)
    {
        var versionMember = version is null ? "" : $$"""
            "version":"{{version}}",
            """;
        return $$"""{"id":"{{id}}","name":"{{name}}",{{versionMember}}"time":"{{time ?? Now}}","properties":{{properties}}}""";
    }

    public static string Now => DateTimeOffset.UtcNow.AddSeconds(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture);

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
