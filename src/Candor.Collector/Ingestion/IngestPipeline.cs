using System.Text.Json;
using System.Text.Unicode;
using Candor.Collector.Operations;
using Candor.Collector.Security;
using Candor.Collector.Storage;
using Candor.Protocol;

namespace Candor.Collector.Ingestion;

/// <summary>
/// The one way a batch becomes stored events, whatever door it came through: authenticate, decode
/// (Candor's JSON; another format's door decodes its own into an <see cref="EventBatch"/>), validate
/// the batch and then each event, enrich (then forget the client address), hand the batch to the
/// group-commit writer, and answer only once it is committed. Every refusal is counted once, under
/// its code, in the door's <see cref="IIngestDoor.Counters"/>.
/// </summary>
internal sealed partial class IngestPipeline(
    EventValidator validator, GroupCommitWriter writer, LargeBodyGate gate, ForgottenInstalls forgotten, CollectorOptions options, TimeProvider time,
    ILogger<IngestPipeline> logger)
{
    public const int MaxEventsPerBatch = 1000;

    /// <summary>The JSON nesting a batch may use; a batch needs 4 (batch, events, event, properties).</summary>
    public const int MaxJsonDepth = 16;

    /// <summary>How long a door that waits out a full writer queue pauses before it tries again.</summary>
    private static readonly TimeSpan BusyPause = TimeSpan.FromMilliseconds(50);

    /// <summary>Stage one, before the body is read: a write key must be sent, and open the door.</summary>
    public static IngestAnswer? Authenticate(IngestCall call)
    {
        var refusal = string.IsNullOrEmpty(call.WriteKey)
            ? IngestAnswer.Refusal(StatusCodes.Status401Unauthorized, ErrorCodes.MissingWriteKey, $"Send the product's write key in the {ProtocolConstants.WriteKeyHeader} header.")
            : !call.Door.IsKnownWriteKey(call.WriteKey)
                ? IngestAnswer.Refusal(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidWriteKey, "The write key is not valid.")
                : null;
        return refusal is null ? null : Counted(call.Door, refusal);
    }

    /// <summary>A body in Candor's wire format, read within its limits (or the refusal its reading
    /// ended with), after <see cref="Authenticate"/>. Disposes the body once it is parsed, not after the commit.</summary>
    public async Task<IngestAnswer> IngestJsonAsync(IngestCall call, RequestBody body, CancellationToken cancellationToken) =>
        Counted(call.Door, await DecodeAndIngestAsync(call, body, cancellationToken));

    /// <summary>A batch a door decoded itself: validated, enriched, committed and answered.</summary>
    public async Task<IngestAnswer> IngestAsync(IngestCall call, EventBatch? batch, CancellationToken cancellationToken) =>
        Counted(call.Door, await IngestBatchAsync(call, batch, cancellationToken));

    /// <summary>The load generator's baseline: the same body work as <see cref="IngestJsonAsync"/>, then nothing.</summary>
    public static IngestAnswer Discard(IngestCall call, RequestBody body)
    {
        using (body)
        {
            return Counted(call.Door, body.Error ?? IngestAnswer.Discarded());
        }
    }

    private static IngestAnswer Counted(IIngestDoor door, IngestAnswer answer)
    {
        if (answer.Code is { } code)
        {
            door.Counters.Refused(code);
        }

        return answer;
    }

    private async Task<IngestAnswer> DecodeAndIngestAsync(IngestCall call, RequestBody body, CancellationToken cancellationToken)
    {
        LargeBodyGate.Slot? slot = null;
        try
        {
            EventBatch? batch;
            // The body's buffer goes back to the pool as soon as it is parsed, not after the commit.
            using (body)
            {
                if (body.Error is { } bodyError)
                {
                    return bodyError;
                }

                slot = await gate.EnterAsync(body.Bytes.Length, cancellationToken);
                if (slot is null)
                {
                    return IngestAnswer.Refusal(StatusCodes.Status503ServiceUnavailable, ErrorCodes.Overloaded,
                        "The collector is busy with other large bodies; retry after the Retry-After delay.", retryAfterSeconds: 1);
                }

                if (Decode(body.Bytes.Span, out batch) is { } refusal)
                {
                    return refusal.Holding(slot);
                }
            }

            // The slot is held until the answer is sent: the batch's objects live that long.
            return (await IngestBatchAsync(call, batch, cancellationToken)).Holding(slot);
        }
        catch
        {
            slot?.Dispose();
            throw;
        }
    }

    /// <summary>Candor's JSON: valid UTF-8, within the nesting and string limits, a batch.</summary>
    private IngestAnswer? Decode(ReadOnlySpan<byte> json, out EventBatch? batch)
    {
        batch = null;
        if (!Utf8.IsValid(json))
        {
            return IngestAnswer.Refusal(StatusCodes.Status400BadRequest, ErrorCodes.InvalidUtf8, "The body is not valid UTF-8.");
        }

        if (json.Length > JsonPrescan.MinBodyBytes && JsonPrescan.Check(json, MaxJsonDepth, options.MaxStringLength) is { } problem)
        {
            // Refused before objects are built for it: a megabyte-long string would otherwise be
            // materialized (twice its size, in the large-object heap) only to be rejected.
            return IngestAnswer.Refusal(StatusCodes.Status400BadRequest, problem.Code, problem.Message);
        }

        try
        {
            batch = JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.EventBatch);
            return null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            // The exception text names a position, never echoes the body.
            return NestsDeeperThan(json, MaxJsonDepth)
                ? IngestAnswer.Refusal(StatusCodes.Status400BadRequest, ErrorCodes.NestingTooDeep, $"The JSON may nest at most {MaxJsonDepth} levels deep.")
                : IngestAnswer.Refusal(StatusCodes.Status400BadRequest, ErrorCodes.MalformedBody, "The body is not a valid event batch: " + ex.Message);
        }
    }

    private async Task<IngestAnswer> IngestBatchAsync(IngestCall call, EventBatch? batch, CancellationToken cancellationToken)
    {
        if (Check(call, batch) is { } refusal)
        {
            return refusal;
        }

        var receivedAt = call.Door.ArrivalOf(batch!, time.GetUtcNow());
        var facts = call.Door.Describe(batch!, call.Client);
        var outcomes = new EventValidator.Outcome[batch!.Events.Count];
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
        while (!writer.TryEnqueue(request))
        {
            if (!call.Door.WaitsWhenBusy)
            {
                return IngestAnswer.Refusal(StatusCodes.Status503ServiceUnavailable, ErrorCodes.Overloaded,
                    "The collector is busy; retry after the Retry-After delay.", retryAfterSeconds: 1);
            }

            await Task.Delay(BusyPause, time, cancellationToken);
        }

        bool[] duplicates;
        try
        {
            duplicates = await request.Committed;
        }
        catch (StorageRejectedException ex)
        {
            return IngestAnswer.Refusal(StatusCodes.Status422UnprocessableEntity, ErrorCodes.StorageRejected,
                "The storage refused this batch's content (" + ex.Reason + "); it was not stored, and sending it again unchanged will not help.");
        }
#pragma warning disable CA1031 // Whatever the storage threw, the client gets a retryable answer; the writer logged it.
        catch (Exception)
#pragma warning restore CA1031
        {
            return IngestAnswer.Refusal(StatusCodes.Status503ServiceUnavailable, ErrorCodes.StorageUnavailable,
                "The events could not be stored; retry after the Retry-After delay.", retryAfterSeconds: 5);
        }

        return Answer(call.Door, batch, outcomes, duplicates);
    }

    /// <summary>The batch as a whole: a context with a valid product the key may send, and between one
    /// and <see cref="MaxEventsPerBatch"/> events.</summary>
    private IngestAnswer? Check(IngestCall call, EventBatch? batch)
    {
        if (batch is null || batch.Context is null || string.IsNullOrWhiteSpace(batch.Context.Product))
        {
            return IngestAnswer.Refusal(StatusCodes.Status400BadRequest, ErrorCodes.MalformedBody, "The batch must have a context with a product.");
        }

        if (!ProductName.IsValid(batch.Context.Product))
        {
            return IngestAnswer.Refusal(StatusCodes.Status400BadRequest, ErrorCodes.InvalidProduct, ProductName.Rule);
        }

        switch (call.Door.CheckWriteKey(call.WriteKey, batch.Context.Product))
        {
            case WriteKeyCheck.Valid:
                break;
            case WriteKeyCheck.Missing:
                return IngestAnswer.Refusal(StatusCodes.Status401Unauthorized, ErrorCodes.MissingWriteKey, $"Send the product's write key in the {ProtocolConstants.WriteKeyHeader} header.");
            default:
                return IngestAnswer.Refusal(StatusCodes.Status401Unauthorized, ErrorCodes.InvalidWriteKey, $"The write key is not valid for product '{batch.Context.Product}'.");
        }

        // After the key, so only the product's own clients learn that an install was forgotten. The
        // stores drop such events at write time too; this answers the client so it stops retrying.
        if (forgotten.IsForgotten(batch.Context.Product, batch.Context.InstallId))
        {
            CollectorMetrics.BatchesForgotten.Inc();
            return IngestAnswer.Refusal(StatusCodes.Status410Gone, ErrorCodes.InstallForgotten,
                "This install was forgotten at its user's request: its events are not stored. Do not send them again.");
        }

        if (batch.Events is null || batch.Events.Count == 0)
        {
            return IngestAnswer.Refusal(StatusCodes.Status400BadRequest, ErrorCodes.EmptyBatch, "The batch has no events.");
        }

        if (batch.Events.Count > MaxEventsPerBatch)
        {
            return IngestAnswer.Refusal(StatusCodes.Status413PayloadTooLarge, ErrorCodes.TooManyEvents, $"A batch may hold at most {MaxEventsPerBatch} events.");
        }

        return CheckContext(batch.Context, options.MaxStringLength);
    }

    /// <summary>Each event's result, in order, counted in the door's counters.</summary>
    private IngestAnswer Answer(IIngestDoor door, EventBatch batch, EventValidator.Outcome[] outcomes, bool[] duplicates)
    {
        var response = new IngestResponse();
        var stored = 0;
        for (var i = 0; i < outcomes.Length; i++)
        {
            var id = batch.Events[i]?.Id ?? Guid.Empty;
            if (outcomes[i].Rejection is { } rejection)
            {
                response.Rejected++;
                response.Results.Add(new EventResult { Id = id, Status = "rejected", Code = rejection.ReasonCode, Message = rejection.Message });
                door.Counters.Rejected(rejection.ReasonCode);
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
            door.Counters.Stored(product, response.Accepted, response.Duplicates);
        }

        LogStored(logger, product, response.Accepted, response.Duplicates, response.Rejected);
        return IngestAnswer.Committed(response);
    }

    /// <summary>The answer for a context field that is too long, too long for analytics to group by,
    /// or unstorable (in that order of precedence); <see langword="null"/> when every field passes.
    /// Each field is named once, with whether analytics groups by it (<see cref="TextRules.MaxDimensionBytes"/>).</summary>
    private static IngestAnswer? CheckContext(EventContext c, int maxLength)
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
        Field(c.Cloud, dimension: true);
        Field(c.CloudPlatform, dimension: true);
        Field(c.CloudRegion, dimension: true);
        Field(c.Container, dimension: true);
        Field(c.ProjectId, dimension: false);
        Field(c.UserId, dimension: false);

        return tooLong ? IngestAnswer.Refusal(StatusCodes.Status400BadRequest, ErrorCodes.StringTooLong, $"A context field is longer than {maxLength} characters.")
            : tooWide ? IngestAnswer.Refusal(StatusCodes.Status400BadRequest, ErrorCodes.StringTooLong,
                $"A version, OS, architecture, CI name, cloud or container in the context is longer than {TextRules.MaxDimensionBytes} bytes of UTF-8.")
            : unstorable ? IngestAnswer.Refusal(StatusCodes.Status400BadRequest, ErrorCodes.InvalidText, "A context field holds U+0000, which the collector does not store.")
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
