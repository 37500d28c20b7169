using System.Text.Json;
using System.Text.Json.Serialization;

namespace Candor.Collector.Privacy;

/// <summary>Everything a product's privacy page states, as served in its JSON form (snake_case) and
/// rendered as HTML by <see cref="PrivacyHtml"/>. Built by <see cref="PrivacyPage"/>.</summary>
/// <param name="Product">The product name.</param>
/// <param name="Events">Every event the collector accepts for the product, by name.</param>
/// <param name="Context">What the Candor client sends with every event besides its properties.</param>
/// <param name="Consent">How the user turns telemetry off or changes it.</param>
/// <param name="Derived">What this collector adds to each stored event, as configured now.</param>
/// <param name="NeverStored">What the collector never keeps.</param>
/// <param name="Retention">How long events and quarantined events are kept.</param>
/// <param name="Rights">How the user deletes or reads what is held for their install.</param>
internal sealed record PrivacyDocument(
    string Product,
    IReadOnlyList<PrivacyEvent> Events,
    IReadOnlyList<PrivacyField> Context,
    PrivacyConsent Consent,
    IReadOnlyList<PrivacyField> Derived,
    IReadOnlyList<string> NeverStored,
    PrivacyRetention Retention,
    PrivacyRights Rights);

/// <summary>One event name with every registered version, oldest first; its description is the newest version's.</summary>
internal sealed record PrivacyEvent(string Name, string? Description, IReadOnlyList<PrivacyEventVersion> Versions);

/// <summary>One registered schema of an event. <c>AdditionalProperties</c>: whether the schema accepts
/// (and so stores) properties it does not declare; when not, an event carrying one is rejected.</summary>
internal sealed record PrivacyEventVersion(string Version, string? Description, bool AdditionalProperties, IReadOnlyList<PrivacyProperty> Properties);

/// <summary>One declared property with its JSON Schema type and bounds; a bound the schema does not
/// set is left out of the JSON form. <c>Type</c>: the JSON types allowed (<c>string</c>, <c>integer</c>,
/// <c>number</c>, <c>boolean</c>, <c>null</c>, …), empty when the schema leaves the type open.</summary>
internal sealed record PrivacyProperty(string Name, IReadOnlyList<string> Type, string? Description, bool Required)
{
    public decimal? Minimum { get; init; }

    public decimal? Maximum { get; init; }

    public decimal? ExclusiveMinimum { get; init; }

    public decimal? ExclusiveMaximum { get; init; }

    public decimal? MultipleOf { get; init; }

    public int? MinLength { get; init; }

    public int? MaxLength { get; init; }

    /// <summary>The only values allowed, as JSON values.</summary>
    public IReadOnlyList<JsonElement>? Enum { get; init; }

    public string? Pattern { get; init; }

    public string? Format { get; init; }
}

/// <summary>A name and what it means: a context field, a derived field, a variable's value, a command.</summary>
internal sealed record PrivacyField(string Name, string Description);

/// <summary>The consent controls every Candor-instrumented tool honours.</summary>
/// <param name="DoNotTrack">The cross-tool <c>DO_NOT_TRACK</c> variable.</param>
/// <param name="ToolVariable">The tool's own variable and its values.</param>
/// <param name="Commands">The tool's <c>telemetry</c> commands.</param>
internal sealed record PrivacyConsent(PrivacyVariable DoNotTrack, PrivacyVariable ToolVariable, IReadOnlyList<PrivacyField> Commands);

/// <summary>An environment variable and what each of its values does.</summary>
internal sealed record PrivacyVariable(string Name, IReadOnlyList<PrivacyField> Values);

/// <summary>How long stored data is kept.</summary>
/// <param name="EventDays">Events are deleted this many days after their time.</param>
/// <param name="QuarantineDays">Rejected events are deleted this many days after they arrived.</param>
/// <param name="CheckEveryMinutes">How often the collector deletes what expired; <c>0</c> when it does
/// not run automatically on this collector.</param>
internal sealed record PrivacyRetention(int EventDays, int QuarantineDays, double CheckEveryMinutes);

/// <summary>The self-service data rights.</summary>
internal sealed record PrivacyRights(PrivacyRight Forget, PrivacyRight Access);

/// <summary>One right: the tool's command that exercises it and the HTTP request the command makes.</summary>
internal sealed record PrivacyRight(string Command, string Method, string Path, string Description);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true)]
[JsonSerializable(typeof(PrivacyDocument))]
[JsonSerializable(typeof(string))]
internal sealed partial class PrivacyJsonContext : JsonSerializerContext;
