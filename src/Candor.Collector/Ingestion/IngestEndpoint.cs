using System.Diagnostics;
using System.Text.Json;
using System.Text.Unicode;
using Candor.Collector.Enrichment;
using Candor.Collector.Operations;
using Candor.Collector.Security;
using Candor.Collector.Storage;
using Candor.Protocol;

namespace Candor.Collector.Ingestion;

/// <summary>
/// <c>POST /v1/events</c>: authenticate, decode within limits, validate each event, enrich (then
/// forget the client address), hand the batch to the group-commit writer, and answer only once
/// it is committed.
/// </summary>
internal static partial class IngestEndpoint
{
    public const int MaxCompressedBytes = 1024 * 1024;
    public const int MaxDecompressedBytes = 8 * 1024 * 1024;
    public const int MaxEventsPerBatch = 1000;

    /// <summary>The JSON nesting a batch may use; a batch needs 4 (batch, events, event, properties).</summary>
    public const int MaxJsonDepth = 16;

    public static void Map(IEndpointRouteBuilder endpoints, CollectorOptions options)
    {
        endpoints.MapPost(ProtocolConstants.EventsPath, HandleAsync);
        if (options.EnableDiscardEndpoint)
        {
            // The load generator's baseline: the same HTTP and gzip work, then nothing.
            endpoints.MapPost("/v1/discard", async (HttpContext http, TimeProvider time) =>
            {
                using var body = await ReadBodyAsync(http, options, time);
                return body.Error ?? Results.Json(new IngestResponse(), ProtocolJsonContext.Default.IngestResponse);
            });
        }
    }

    private static async Task<IResult> HandleAsync(
        HttpContext http, Credentials credentials, EventValidator validator, GroupCommitWriter writer, ClientAddressEnricher enricher,
        TimeProvider time, CollectorOptions options, ILoggerFactory loggers, LargeBodyGate gate)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await IngestAsync(http, credentials, validator, writer, enricher, time, options, loggers, gate);
        }
        finally
        {
            CollectorMetrics.RequestDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    private static async Task<IResult> IngestAsync(
        HttpContext http, Credentials credentials, EventValidator validator, GroupCommitWriter writer, ClientAddressEnricher enricher,
        TimeProvider time, CollectorOptions options, ILoggerFactory loggers, LargeBodyGate gate)
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

        EventBatch? batch;
        // The body's buffer goes back to the pool as soon as it is parsed, not after the commit.
        using (var body = await ReadBodyAsync(http, options, time))
        {
            if (body.Error is { } bodyError)
            {
                return bodyError;
            }

            if (await gate.EnterAsync(body.Bytes.Length, http.RequestAborted) is not { } slot)
            {
                CollectorMetrics.RequestsRefused.WithLabels(ErrorCodes.Overloaded).Inc();
                http.Response.Headers.RetryAfter = "1";
                return Error(StatusCodes.Status503ServiceUnavailable, ErrorCodes.Overloaded, "The collector is busy with other large bodies; retry after the Retry-After delay.");
            }

            // Held until the answer is sent: the batch's objects live that long.
            http.Response.RegisterForDispose(slot);

            if (!Utf8.IsValid(body.Bytes.Span))
            {
                return Error(StatusCodes.Status400BadRequest, ErrorCodes.InvalidUtf8, "The body is not valid UTF-8.");
            }

            if (body.Bytes.Length > JsonPrescan.MinBodyBytes && JsonPrescan.Check(body.Bytes.Span, MaxJsonDepth, options.MaxStringLength) is { } problem)
            {
                // Refused before objects are built for it: a megabyte-long string would otherwise be
                // materialized (twice its size, in the large-object heap) only to be rejected.
                return Error(StatusCodes.Status400BadRequest, problem.Code, problem.Message);
            }

            try
            {
                batch = JsonSerializer.Deserialize(body.Bytes.Span, ProtocolJsonContext.Default.EventBatch);
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
            {
                if (NestsDeeperThan(body.Bytes.Span, MaxJsonDepth))
                {
                    return Error(StatusCodes.Status400BadRequest, ErrorCodes.NestingTooDeep, $"The JSON may nest at most {MaxJsonDepth} levels deep.");
                }

                // The exception text names a position, never echoes the body.
                return Error(StatusCodes.Status400BadRequest, ErrorCodes.MalformedBody, "The body is not a valid event batch: " + ex.Message);
            }
        }

        if (batch is null || batch.Context is null || string.IsNullOrWhiteSpace(batch.Context.Product))
        {
            return Error(StatusCodes.Status400BadRequest, ErrorCodes.MalformedBody, "The batch must have a context with a product.");
        }

        if (!ProductName.IsValid(batch.Context.Product))
        {
            return Error(StatusCodes.Status400BadRequest, ErrorCodes.InvalidProduct, ProductName.Rule);
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

        if (CheckContext(batch.Context, options.MaxStringLength) is { } contextError)
        {
            return contextError;
        }

        var receivedAt = time.GetUtcNow();
        // The only place the client address is read; it goes no further than this call.
        var facts = enricher.Describe(http.Connection.RemoteIpAddress);

        var outcomes = new EventValidator.Outcome[batch.Events.Count];
        var events = new List<EventRecord>(batch.Events.Count);
        var quarantine = new List<QuarantineRecord>();
        for (var i = 0; i < outcomes.Length; i++)
        {
            var outcome = outcomes[i] = validator.Check(batch, batch.Events[i], receivedAt, facts);
            if (outcome.Event is { } record)
            {
                events.Add(record);
            }
            else
            {
                quarantine.Add(outcome.Rejection!);
            }
        }

        var request = new WriteRequest(events, quarantine);
        if (!writer.TryEnqueue(request))
        {
            CollectorMetrics.RequestsRefused.WithLabels(ErrorCodes.Overloaded).Inc();
            http.Response.Headers.RetryAfter = "1";
            return Error(StatusCodes.Status503ServiceUnavailable, ErrorCodes.Overloaded, "The collector is busy; retry after the Retry-After delay.");
        }

        bool[] duplicates;
        try
        {
            duplicates = await request.Committed;
        }
#pragma warning disable CA1031 // Whatever the storage threw, the client gets a retryable answer; the writer logged it.
        catch (StorageRejectedException ex)
#pragma warning restore CA1031
        {
            return Error(StatusCodes.Status422UnprocessableEntity, ErrorCodes.StorageRejected,
                "The storage refused this batch's content (" + ex.Reason + "); it was not stored, and sending it again unchanged will not help.");
        }
#pragma warning disable CA1031
        catch (Exception)
#pragma warning restore CA1031
        {
            CollectorMetrics.RequestsRefused.WithLabels(ErrorCodes.StorageUnavailable).Inc();
            http.Response.Headers.RetryAfter = "5";
            return Error(StatusCodes.Status503ServiceUnavailable, ErrorCodes.StorageUnavailable, "The events could not be stored; retry after the Retry-After delay.");
        }

        var response = new IngestResponse();
        var stored = 0;
        for (var i = 0; i < outcomes.Length; i++)
        {
            var id = batch.Events[i]?.Id ?? Guid.Empty;
            if (outcomes[i].Rejection is { } rejection)
            {
                response.Rejected++;
                response.Results.Add(new EventResult { Id = id, Status = "rejected", Code = rejection.ReasonCode, Message = rejection.Message });
                CollectorMetrics.Rejected.WithLabels(rejection.ReasonCode).Inc();
            }
            else if (duplicates[stored++])
            {
                response.Duplicates++;
                response.Results.Add(new EventResult { Id = id, Status = "duplicate" });
            }
            else
            {
                response.Accepted++;
                response.Results.Add(new EventResult { Id = id, Status = "accepted" });
            }
        }

        var product = batch.Context.Product;
        // Only products with accepted events get a series: accepting needs a schema the operator
        // registered, so a development key (any product) cannot mint label values.
        if (response.Accepted + response.Duplicates > 0)
        {
            CollectorMetrics.Accepted.WithLabels(product).Inc(response.Accepted);
            CollectorMetrics.Duplicates.WithLabels(product).Inc(response.Duplicates);
        }
        LogStored(loggers.CreateLogger(typeof(IngestEndpoint)), product, response.Accepted, response.Duplicates, response.Rejected);

        if (response.Accepted + response.Duplicates == 0)
        {
            CollectorMetrics.RequestsRefused.WithLabels(ErrorCodes.NoValidEvents).Inc();
            return Results.Json(
                new ErrorResponse { Code = ErrorCodes.NoValidEvents, Message = "No event of the batch is valid; see results, and the quarantine.", Results = response.Results },
                ProtocolJsonContext.Default.ErrorResponse, statusCode: StatusCodes.Status422UnprocessableEntity);
        }

        return Results.Json(response, ProtocolJsonContext.Default.IngestResponse);
    }

    private static Task<RequestBody> ReadBodyAsync(HttpContext http, CollectorOptions options, TimeProvider time) =>
        RequestBody.ReadAsync(http.Request, MaxCompressedBytes, MaxDecompressedBytes, options.MaxBodyReadTime, options.MinBodyBytesPerSecond, time, http.RequestAborted);

    /// <summary>The answer for a context field that is too long, too long for analytics to group by,
    /// or unstorable (in that order of precedence); <see langword="null"/> when every field passes.
    /// Each field is named once, with whether analytics groups by it (<see cref="TextRules.MaxDimensionBytes"/>).</summary>
    private static IResult? CheckContext(EventContext c, int maxLength)
    {
        var (tooLong, tooWide, unstorable) = (false, false, false);
        Field(c.Product, dimension: false);
        Field(c.ProductVersion, dimension: true);
        Field(c.InitialVersion, dimension: true);
        Field(c.SdkVersion, dimension: false);
        Field(c.RuntimeVersion, dimension: true);
        Field(c.OsFamily, dimension: true);
        Field(c.OsVersion, dimension: true);
        Field(c.KernelRelease, dimension: false);
        Field(c.Architecture, dimension: true);
        Field(c.CiName, dimension: true);
        Field(c.ProjectId, dimension: false);
        Field(c.UserId, dimension: false);

        return tooLong ? Error(StatusCodes.Status400BadRequest, ErrorCodes.StringTooLong, $"A context field is longer than {maxLength} characters.")
            : tooWide ? Error(StatusCodes.Status400BadRequest, ErrorCodes.StringTooLong,
                $"A version, OS, architecture or CI name in the context is longer than {TextRules.MaxDimensionBytes} bytes of UTF-8.")
            : unstorable ? Error(StatusCodes.Status400BadRequest, ErrorCodes.InvalidText, "A context field holds U+0000, which the collector does not store.")
            : null;

        void Field(string? value, bool dimension)
        {
            if (value is not null)
            {
                tooLong |= value.Length > maxLength;
                tooWide |= dimension && !TextRules.FitsDimension(value);
                unstorable |= !TextRules.IsStorable(value);
            }
        }
    }

    internal static IResult Error(int status, string code, string message)
    {
        if (status != StatusCodes.Status503ServiceUnavailable)
        {
            CollectorMetrics.RequestsRefused.WithLabels(code).Inc();
        }

        return Results.Json(new ErrorResponse { Code = code, Message = message }, ProtocolJsonContext.Default.ErrorResponse, statusCode: status);
    }

    /// <summary>Run only after deserialization failed, to tell deep nesting from other malformed JSON.</summary>
    private static bool NestsDeeperThan(ReadOnlySpan<byte> json, int limit)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 100_000 });
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth > limit)
                {
                    return true;
                }
            }
        }
        catch (JsonException)
        {
            return reader.CurrentDepth > limit;
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Batch for {Product}: {Accepted} accepted, {Duplicates} duplicates, {Rejected} rejected")]
    private static partial void LogStored(ILogger logger, string product, int accepted, int duplicates, int rejected);
}
