using System.Globalization;
using System.Text.Json;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// Quarantine rows for what ingest accepted and the store could not keep as it was: an event whose
/// properties pass <see cref="JournalBounds.PropertiesChars"/>, or a record DuckDB refused even on its
/// own (<see cref="ApplySplitter"/>). Every string in them is within the bounds, so the row itself goes in.
/// </summary>
internal static class StorageRejection
{
    /// <summary>The quarantine reason code for events the database could not store: the protocol's
    /// code for the same refusal at ingest.</summary>
    public const string ReasonCode = Candor.Protocol.ErrorCodes.StorageRejected;

    /// <summary>How much of the database's error the message keeps.</summary>
    private const int ErrorChars = 512;

    /// <summary>A quarantine row for <paramref name="e"/>: its identity, and an excerpt of the event as JSON.
    /// Every string is cut to the excerpt bound at most, whatever the field bounds: this row must go in.</summary>
    public static QuarantineRecord ForEvent(EventRecord e, string message, JournalBounds bounds)
    {
        var excerpt = bounds.ExcerptChars;
        return new QuarantineRecord
        {
            Product = Cut(e.Product, Math.Min(bounds.FieldChars, excerpt)),
            EventId = e.Id,
            InstallId = e.Context.InstallId,
            ReasonCode = ReasonCode,
            Message = Cut(message, excerpt),
            SchemaRef = Cut($"{Cut(e.Product, excerpt)}/{Cut(e.Name, excerpt)}/{Cut(e.SchemaVersion, excerpt)}", Math.Min(bounds.SchemaRefChars, excerpt)),
            ReceivedAt = e.ReceivedAt,
            EventJson = Cut(Excerpt(e, excerpt), excerpt),
        };
    }

    /// <summary>A quarantine row standing for <paramref name="q"/>, keeping its original reason in the message.</summary>
    public static QuarantineRecord ForQuarantine(QuarantineRecord q, string message, JournalBounds bounds)
    {
        var excerpt = bounds.ExcerptChars;
        return new QuarantineRecord
        {
            Product = Cut(q.Product, Math.Min(bounds.FieldChars, excerpt)),
            EventId = q.EventId,
            InstallId = q.InstallId,
            ReasonCode = ReasonCode,
            Message = Cut($"{message} It was quarantined as {Cut(q.ReasonCode, 64)}: {Cut(q.Message, excerpt)}", excerpt),
            SchemaRef = q.SchemaRef is null ? null : Cut(q.SchemaRef, Math.Min(bounds.SchemaRefChars, excerpt)),
            ReceivedAt = q.ReceivedAt,
            EventJson = Cut(q.EventJson, excerpt),
        };
    }

    /// <summary>The message for a record DuckDB refused with <paramref name="error"/>.</summary>
    public static string Refused(Exception error) =>
        "The database refused to store this event: " + Cut(error.Message, ErrorChars);

    /// <summary>The event as a small JSON object; its properties (JSON text) as a string, since only a
    /// prefix of them may fit.</summary>
    private static string Excerpt(EventRecord e, int maxChars)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteString("id", e.Id);
            json.WriteString("name", Cut(e.Name, maxChars));
            json.WriteString("version", Cut(e.SchemaVersion, maxChars));
            json.WriteString("time", e.Time.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            if (e.Context.InstallId is { } install)
            {
                json.WriteString("install_id", install);
            }

            if (e.PropertiesJson is { } properties)
            {
                json.WriteString("properties", Cut(properties, maxChars));
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }

    /// <summary><paramref name="value"/> cut to <paramref name="maxChars"/>, not inside a surrogate pair.</summary>
    internal static string Cut(string value, int maxChars)
    {
        if (value.Length <= maxChars)
        {
            return value;
        }

        var cut = maxChars > 0 && char.IsHighSurrogate(value[maxChars - 1]) ? maxChars - 1 : maxChars;
        return value[..cut];
    }
}
