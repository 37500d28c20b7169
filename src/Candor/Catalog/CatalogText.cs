using System.Globalization;
using System.Text;

namespace Candor.Catalog;

/// <summary>
/// What the user reads about the events a tool sends, written from its <see cref="EventCatalog"/> — the
/// same declarations the client enforces and the collector's schemas are exported from — so that what
/// the user is told cannot drift from what is sent: the default notice's list of events
/// (<see cref="CandorOptions.ResolvedNoticeText"/>) and <c>telemetry show --schema</c>.
/// </summary>
internal static class CatalogText
{
    /// <summary>The notice lists at most this many events, one line each; the rest are counted.</summary>
    internal const int NoticeEvents = 10;

    /// <summary>An event's line in the notice is cut to this many characters, for a terminal.</summary>
    internal const int NoticeLineWidth = 100;

    /// <summary>What every batch carries besides its events (the context; see <c>docs/protocol.md</c>).</summary>
    internal const string ContextSummary =
        "the tool's, runtime's and OS's versions, the CI's name and a random install id";

    /// <summary>The default notice: what is collected (the catalog's events, one line each), how to see
    /// all of it and the collector's privacy page, and how to turn it off.</summary>
    public static string Notice(CandorOptions options)
    {
        var product = options.ProductName;
        var text = new StringBuilder();
        var events = Sorted(options.Catalog);
        if (events.Count == 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{product} collects anonymous usage data to improve the tool, but declares no events yet: it sends none.\n");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"{product} collects anonymous usage data to improve the tool: only these events,\n");
            for (var i = 0; i < events.Count && i < NoticeEvents; i++)
            {
                text.Append(Cut($"  {events[i].Name}: {events[i].Description}", NoticeLineWidth)).Append('\n');
            }

            if (events.Count > NoticeEvents)
            {
                text.Append(CultureInfo.InvariantCulture, $"  … and {events.Count - NoticeEvents} more\n");
            }

            text.Append(CultureInfo.InvariantCulture, $"with {ContextSummary}.\n");
            text.Append("Strings are redacted; it never collects host or user names.\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"See every property with `{product} telemetry show --schema`");
        text.Append(options.Endpoint is { } endpoint
            ? $", and what the collector keeps at\n{Rights.RightsRequest.PrivacyPage(endpoint, product)}\n"
            : ".\n");
        text.Append(CultureInfo.InvariantCulture, $"Turn it off with {options.TelemetryVariable}=off or DO_NOT_TRACK=1, or run `{product} telemetry disable`;\n");
        text.Append(CultureInfo.InvariantCulture, $"see what is recorded with `{product} telemetry status`.");
        return text.ToString();
    }

    /// <summary>Every event with its description and version, and every property with its type,
    /// description and bounds, sorted by name.</summary>
    public static string Schema(EventCatalog? catalog, string product)
    {
        var text = new StringBuilder();
        var events = Sorted(catalog);
        if (events.Count == 0)
        {
            return $"{product} declares no events: it sends nothing.\n";
        }

        text.Append(CultureInfo.InvariantCulture, $"The events {product} may send, from its event catalog. Anything not declared here is dropped\n");
        text.Append("before it is sent; strings are redacted (paths, host and user names removed), then cut to their length.\n");
        text.Append(CultureInfo.InvariantCulture, $"Each batch of events also carries {ContextSummary}.\n");
        foreach (var definition in events)
        {
            text.Append('\n');
            text.Append(CultureInfo.InvariantCulture, $"{definition.Name} (version {definition.Version})\n");
            text.Append(CultureInfo.InvariantCulture, $"  {definition.Description}\n");
            if (definition.Properties.Count == 0)
            {
                text.Append("  (no properties)\n");
            }

            foreach (var property in definition.Properties)
            {
                text.Append(CultureInfo.InvariantCulture, $"  - {property.Name}: {Shape(property)}\n");
                text.Append(CultureInfo.InvariantCulture, $"      {property.Description}\n");
            }
        }

        return text.ToString();
    }

    /// <summary>A property's type and bounds in words, e.g. <c>integer, required, minimum 0</c>.</summary>
    public static string Shape(PropertyDefinition property)
    {
        var parts = new List<string>(4);
        parts.Add(property.Type switch
        {
            PropertyType.String => "string",
            PropertyType.Integer => "integer",
            PropertyType.Number => "number",
            PropertyType.Boolean => "boolean",
            _ => "one of " + string.Join(", ", property.Values),
        });
        parts.Add(property.Required ? "required" : "optional");
        if (property.Type == PropertyType.String)
        {
            parts.Add(property.MaxLength.ToString(CultureInfo.InvariantCulture) + " characters at most");
        }

        if (property.Minimum is { } minimum)
        {
            parts.Add("minimum " + minimum.ToString(CultureInfo.InvariantCulture));
        }

        if (property.Maximum is { } maximum)
        {
            parts.Add("maximum " + maximum.ToString(CultureInfo.InvariantCulture));
        }

        return string.Join(", ", parts);
    }

    private static List<EventDefinition> Sorted(EventCatalog? catalog)
    {
        var events = new List<EventDefinition>(catalog?.Events ?? []);
        events.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return events;
    }

    private static string Cut(string line, int width) => line.Length <= width ? line : line[..(width - 1)] + "…";
}
