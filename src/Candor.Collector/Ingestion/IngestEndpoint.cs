using System.Text.Json;
using Candor.Collector.Security;
using Candor.Collector.Storage;
using Candor.Protocol;

namespace Candor.Collector.Ingestion;

/// <summary><c>POST /v1/events</c>: authenticate, decode within limits, store, then acknowledge.</summary>
internal static class IngestEndpoint
{
    public const int MaxCompressedBytes = 1024 * 1024;
    public const int MaxDecompressedBytes = 8 * 1024 * 1024;
    public const int MaxEventsPerBatch = 1000;

    public static void Map(IEndpointRouteBuilder endpoints) =>
        endpoints.MapPost(ProtocolConstants.EventsPath, HandleAsync);

    private static async Task<IResult> HandleAsync(
        HttpContext http, Credentials credentials, IEventStore store, TimeProvider time, ILoggerFactory loggers)
    {
        var writeKey = http.Request.Headers[ProtocolConstants.WriteKeyHeader].ToString();
        if (string.IsNullOrEmpty(writeKey))
        {
            return Error(StatusCodes.Status401Unauthorized, ErrorCodes.MissingWriteKey, $"Send the product's write key in the {ProtocolConstants.WriteKeyHeader} header.");
        }

        if (!credentials.IsKnownWriteKey(writeKey))
        {
            return Error(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidWriteKey, "The write key is not valid.");
        }

        var body = await RequestBody.ReadAsync(http.Request, MaxCompressedBytes, MaxDecompressedBytes, http.RequestAborted);
        if (body.Error is { } bodyError)
        {
            return bodyError;
        }

        EventBatch? batch;
        try
        {
            batch = JsonSerializer.Deserialize(body.Bytes.Span, ProtocolJsonContext.Default.EventBatch);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // The exception text names a position, never echoes the body.
            return Error(StatusCodes.Status400BadRequest, ErrorCodes.MalformedBody, "The body is not a valid event batch: " + ex.Message);
        }

        if (batch is null || batch.Context is null || string.IsNullOrWhiteSpace(batch.Context.Product))
        {
            return Error(StatusCodes.Status400BadRequest, ErrorCodes.MalformedBody, "The batch must have a context with a product.");
        }

        if (credentials.CheckWriteKey(writeKey, batch.Context.Product) != WriteKeyCheck.Valid)
        {
            return Error(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidWriteKey, $"The write key is not valid for product '{batch.Context.Product}'.");
        }

        if (batch.Events is null || batch.Events.Count == 0)
        {
            return Error(StatusCodes.Status400BadRequest, ErrorCodes.EmptyBatch, "The batch has no events.");
        }

        if (batch.Events.Count > MaxEventsPerBatch)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, ErrorCodes.TooManyEvents, $"A batch may hold at most {MaxEventsPerBatch} events.");
        }

        var events = batch.Events as IReadOnlyList<TelemetryEvent> ?? [.. batch.Events];
        var stored = await store.AppendAsync(batch.Context, events, time.GetUtcNow(), http.RequestAborted);

        var response = new IngestResponse();
        for (var i = 0; i < events.Count; i++)
        {
            var duplicate = stored[i] == StoreResult.Duplicate;
            response.Results.Add(new EventResult { Id = events[i].Id, Status = duplicate ? "duplicate" : "accepted" });
            if (duplicate)
            {
                response.Duplicates++;
            }
            else
            {
                response.Accepted++;
            }
        }

        loggers.CreateLogger(typeof(IngestEndpoint)).LogDebug(
            "Stored {Accepted} events for {Product} ({Duplicates} duplicates)", response.Accepted, batch.Context.Product, response.Duplicates);
        return Results.Json(response, ProtocolJsonContext.Default.IngestResponse);
    }

    internal static IResult Error(int status, string code, string message) =>
        Results.Json(new ErrorResponse { Code = code, Message = message }, ProtocolJsonContext.Default.ErrorResponse, statusCode: status);
}
