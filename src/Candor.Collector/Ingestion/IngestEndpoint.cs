using Candor.Collector.Operations;
using Candor.Protocol;

namespace Candor.Collector.Ingestion;

/// <summary>
/// <c>POST /v1/events</c>, the <see cref="IngestPipeline"/>'s HTTP door for Candor's wire format: it
/// takes the write key header and the client address, reads the body within its limits once the key
/// is known, and writes the pipeline's answer.
/// </summary>
internal static class IngestEndpoint
{
    public const int MaxCompressedBytes = 1024 * 1024;
    public const int MaxDecompressedBytes = 8 * 1024 * 1024;

    public static void Map(IEndpointRouteBuilder endpoints, CollectorOptions options)
    {
        endpoints.MapPost(ProtocolConstants.EventsPath, HandleAsync);
        if (options.EnableDiscardEndpoint)
        {
            // The load generator's baseline: the same HTTP and gzip work, then nothing.
            endpoints.MapPost("/v1/discard", async (HttpContext http, PublicIngestDoor door, TimeProvider time) =>
                IngestPipeline.Discard(Call(http, door), await ReadBodyAsync(http, options, time)).ToResult(http));
        }
    }

    private static async Task<IResult> HandleAsync(HttpContext http, IngestPipeline pipeline, PublicIngestDoor door, TimeProvider time, CollectorOptions options)
    {
        var started = time.GetTimestamp();
        try
        {
            var call = Call(http, door);
            var answer = IngestPipeline.Authenticate(call)
                ?? await pipeline.IngestJsonAsync(call, await ReadBodyAsync(http, options, time), http.RequestAborted);
            return answer.ToResult(http);
        }
        finally
        {
            CollectorMetrics.RequestDuration.Observe(time.GetElapsedTime(started).TotalSeconds);
        }
    }

    private static IngestCall Call(HttpContext http, PublicIngestDoor door) =>
        new(door, http.Request.Headers[ProtocolConstants.WriteKeyHeader].ToString(), http.Connection.RemoteIpAddress);

    private static Task<RequestBody> ReadBodyAsync(HttpContext http, CollectorOptions options, TimeProvider time) =>
        RequestBody.ReadAsync(http.Request, MaxCompressedBytes, MaxDecompressedBytes, options.MaxBodyReadTime, options.MinBodyBytesPerSecond, time, http.RequestAborted);
}
