using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>Builds and posts acme batches to a collector process.</summary>
internal static class CollectorHttp
{
    public static string Batch(IEnumerable<Guid> ids)
    {
        var now = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var events = ids.Select(id =>
            $$$"""{"id":"{{{id}}}","name":"command","version":"1-0-0","time":"{{{now}}}","properties":{"command":"run","exit_code":0,"duration_ms":7}}""");
        return $$"""
            {"sent_at":"{{now}}","context":{"product":"acme","product_version":"1.4.0","os_family":"linux","session_id":"{{Guid.CreateVersion7()}}"},
             "events":[{{string.Join(",", events)}}]}
            """;
    }

    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string json, string? forwardedFor = null, CancellationToken cancellationToken = default)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(json));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/events") { Content = new ByteArrayContent(output.ToArray()) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Content.Headers.ContentEncoding.Add("gzip");
        request.Headers.Add("X-Candor-Write-Key", CollectorProcess.WriteKey);
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return await client.SendAsync(request, cancellationToken);
    }
}
