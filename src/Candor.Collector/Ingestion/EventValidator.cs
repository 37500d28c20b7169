using System.Text.Json;
using Candor.Collector.Enrichment;
using Candor.Collector.Schemas;
using Candor.Collector.Storage;
using Candor.Protocol;

namespace Candor.Collector.Ingestion;

/// <summary>
/// Checks each event of a batch and turns it into a record to store or to quarantine.
/// Time rule: an event's time is first corrected for the client's clock skew, measured as the
/// collector's receive time minus the batch's <c>sent_at</c>; the corrected time must then lie no more
/// than <see cref="CollectorOptions.MaxFutureSkew"/> after arrival (else <c>time_in_future</c>) and
/// no more than <see cref="CollectorOptions.MaxEventAge"/> before it (else <c>time_too_old</c>).
/// </summary>
internal sealed class EventValidator(SchemaRegistry schemas, CollectorOptions options)
{
    /// <summary>The outcome for one event: a record to store, or a quarantine record.</summary>
    public readonly record struct Outcome(EventRecord? Event, QuarantineRecord? Rejection);

    public Outcome Check(EventBatch batch, TelemetryEvent? e, DateTimeOffset receivedAt, ClientFacts facts)
    {
        var product = batch.Context.Product;
        EventSchema? schema = null;
        if (e is null || e.Id == Guid.Empty || string.IsNullOrWhiteSpace(e.Name) || e.Time == default)
        {
            return Reject(ErrorCodes.InvalidEvent, "An event needs an id, a name and a time.");
        }

        if (e.Name.Length > options.MaxStringLength || e.Version?.Length > options.MaxStringLength)
        {
            return Reject(ErrorCodes.StringTooLong, $"The event name or version is longer than {options.MaxStringLength} characters.");
        }

        if (!TextRules.IsStorable(e.Name) || !TextRules.IsStorable(e.Version))
        {
            return Reject(ErrorCodes.InvalidText, "The event name or version holds U+0000, which the collector does not store.");
        }

        schema = schemas.Find(product, e.Name, e.Version);
        if (schema is null)
        {
            return Reject(ErrorCodes.UnknownSchema, $"No schema {SchemaRef()} is registered.");
        }

        if (e.Properties is not null)
        {
            // Deserialized batches hold a Dictionary: enumerate it as one, without boxing an enumerator per event.
            foreach (var (key, value) in e.Properties as Dictionary<string, PropertyValue> ?? new Dictionary<string, PropertyValue>(e.Properties))
            {
                if (value.AsString?.Length > options.MaxStringLength || key.Length > options.MaxStringLength)
                {
                    return Reject(ErrorCodes.StringTooLong, $"'{TextRules.Excerpt(key, 64)}' is longer than {options.MaxStringLength} characters.");
                }

                if (!TextRules.IsStorable(key) || !TextRules.IsStorable(value.AsString))
                {
                    return Reject(ErrorCodes.InvalidText, $"'{TextRules.Excerpt(key, 64)}' holds U+0000, which the collector does not store.");
                }

                if (value.Kind == PropertyKind.Number && !double.IsFinite(value.AsNumber))
                {
                    return Reject(ErrorCodes.NumberOutOfRange, $"'{TextRules.Excerpt(key, 64)}' is outside the range of a double.");
                }
            }
        }

        var check = schema.Validate(e.Properties);
        if (!check.IsValid)
        {
            return Reject(check.Code!, check.Message!);
        }

        // In ticks: a sent_at or time near year 1 or 9999 must be an answer, not an overflow.
        var skewTicks = batch.SentAt == default ? 0 : (decimal)receivedAt.UtcTicks - batch.SentAt.UtcTicks;
        var ticks = e.Time.UtcTicks + skewTicks;
        if (ticks > (decimal)receivedAt.UtcTicks + options.MaxFutureSkew.Ticks)
        {
            return Reject(ErrorCodes.TimeInFuture, $"The event time, corrected for clock skew, is more than {options.MaxFutureSkew} after its arrival.");
        }

        if (ticks < (decimal)receivedAt.UtcTicks - options.MaxEventAge.Ticks)
        {
            return Reject(ErrorCodes.TimeTooOld, $"The event time, corrected for clock skew, is more than {options.MaxEventAge} before its arrival.");
        }

        var analytics = AnalyticsFields.Derive(e);
        if (!TextRules.FitsDimension(analytics.Subject) || !TextRules.FitsDimension(analytics.ErrorCode))
        {
            return Reject(ErrorCodes.StringTooLong, $"The command or error code is longer than {TextRules.MaxDimensionBytes} bytes of UTF-8.");
        }

        var time = new DateTimeOffset((long)ticks, TimeSpan.Zero);
        return new Outcome(new EventRecord
        {
            Product = product,
            Id = e.Id,
            Name = e.Name,
            SchemaVersion = schema.VersionText,
            Time = time,
            ReceivedAt = receivedAt,
            Context = batch.Context,
            PropertiesJson = e.Properties switch
            {
                null => null,
                // As its concrete type: the interface's converter boxes an enumerator per event.
                Dictionary<string, PropertyValue> dictionary => JsonSerializer.Serialize(dictionary, CollectorJsonContext.Default.DictionaryStringPropertyValue),
                var other => JsonSerializer.Serialize(other, CollectorJsonContext.Default.IDictionaryStringPropertyValue),
            },
            Country = facts.Country,
            Region = facts.Region,
            IpPseudonym = facts.IpPseudonym,
            Analytics = analytics,
        }, null);

        // Every string here is bounded and storable whatever the event held: the quarantine keeps
        // an excerpt of refused input, never the input.
        Outcome Reject(string code, string message) => new(null, new QuarantineRecord
        {
            Product = product,
            EventId = e is null || e.Id == Guid.Empty ? null : e.Id,
            InstallId = batch.Context.InstallId,
            ReasonCode = code,
            Message = TextRules.Excerpt(message, MaxMessageChars),
            SchemaRef = SchemaRef(),
            ReceivedAt = receivedAt,
            EventJson = QuarantineExcerpt.Of(e, options.QuarantineEventChars),
        });

        // product/name/version as resolved, else as asked for; only rejections need it.
        string? SchemaRef() => schema?.Reference ?? (string.IsNullOrEmpty(e?.Name)
            ? null
            : $"{product}/{TextRules.Excerpt(e.Name, MaxNameChars)}/{TextRules.Excerpt(e.Version ?? "latest", MaxNameChars)}");
    }

    /// <summary>The most characters of a rejection message kept.</summary>
    public const int MaxMessageChars = 512;

    /// <summary>The most characters of a refused event's name or version kept in its schema reference.</summary>
    public const int MaxNameChars = 128;
}
