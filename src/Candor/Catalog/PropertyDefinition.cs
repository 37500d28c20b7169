namespace Candor.Catalog;

/// <summary>One declared property of an event: its name, type and limits. Made by the
/// <see cref="EventDefinition"/> builder methods.</summary>
public sealed class PropertyDefinition
{
    internal PropertyDefinition(string name, string description, PropertyType type, bool required)
    {
        Name = name;
        Description = description;
        Type = type;
        Required = required;
    }

    /// <summary>The property name, e.g. <c>exit_code</c>.</summary>
    public string Name { get; }

    /// <summary>What the property means, for the schema and the privacy notice.</summary>
    public string Description { get; }

    /// <summary>The property's type.</summary>
    public PropertyType Type { get; }

    /// <summary>Whether every event must carry the property. An event without a required property
    /// is dropped and reported.</summary>
    public bool Required { get; }

    /// <summary>For strings, the longest value kept after redaction; longer values are cut.</summary>
    public int MaxLength { get; internal init; }

    /// <summary>For strings, whether values skip redaction (they are still cut to <see cref="MaxLength"/>):
    /// only for values made by code, never typed by a user (see <c>EventDefinition.VerbatimString</c>).</summary>
    internal bool Verbatim { get; init; }

    /// <summary>For integers and numbers, the smallest value accepted, if bounded.</summary>
    public double? Minimum { get; internal init; }

    /// <summary>For integers and numbers, the largest value accepted, if bounded.</summary>
    public double? Maximum { get; internal init; }

    /// <summary>For enums, the accepted values.</summary>
    public IReadOnlyList<string> Values { get; internal init; } = [];
}
