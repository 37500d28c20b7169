using Candor.Protocol;
namespace Candor.Catalog;

/// <summary>
/// One event a tool may send: its name, description, SchemaVer version and declared properties.
/// Properties are declared with the builder methods, which return this definition for chaining.
/// </summary>
/// <example>
/// <code>
/// new EventDefinition("command", "A command ran.")
///     .String("command", "The command path, e.g. 'run'.", required: true)
///     .Integer("exit_code", "The command's exit code.", required: true)
///     .Integer("duration_ms", "How long the command took.", minimum: 0);
/// </code>
/// </example>
public sealed class EventDefinition
{
    /// <summary>The default longest string kept after redaction: 200 characters.</summary>
    public const int DefaultMaxLength = 200;

    private readonly List<PropertyDefinition> _properties = [];
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    /// <summary>Declares an event.</summary>
    /// <param name="name">The event name: lower-case letters, digits and <c>_</c>, starting with a letter, at most 64 characters.</param>
    /// <param name="description">What the event records and why; exported into the schema.</param>
    /// <param name="version">The SchemaVer version <c>MODEL-REVISION-ADDITION</c>. Default: <c>1-0-0</c>.</param>
    /// <exception cref="ArgumentException">The name or version is malformed.</exception>
    public EventDefinition(string name, string description, string version = "1-0-0")
    {
        CheckName(name, nameof(name));
        ArgumentNullException.ThrowIfNull(description);
        if (!IsSchemaVer(version))
        {
            throw new ArgumentException($"Version '{version}' must be SchemaVer MODEL-REVISION-ADDITION, e.g. 1-0-0.", nameof(version));
        }

        Name = name;
        Description = description;
        Version = version;
    }

    /// <summary>The event name.</summary>
    public string Name { get; }

    /// <summary>What the event records and why.</summary>
    public string Description { get; }

    /// <summary>The SchemaVer version, e.g. <c>1-0-0</c>.</summary>
    public string Version { get; }

    /// <summary>The declared properties, in declaration order.</summary>
    public IReadOnlyList<PropertyDefinition> Properties => _properties;

    /// <summary>Declares an event recorded by <see cref="CandorClient.StartOperation"/>: <c>duration_ms</c>
    /// (integer ≥ 0), <c>outcome</c> (<c>success</c> or <c>failure</c>) and an optional <c>error_code</c>.
    /// Declare the counts the operation records (<see cref="TelemetryOperation.Count"/>) with <see cref="Count"/>.</summary>
    /// <example>
    /// <code>
    /// EventDefinition.Operation("import", "Records were imported.")
    ///     .Count("records", "Records imported.")
    ///     .Count("batches", "Batches sent.");
    /// </code>
    /// </example>
    public static EventDefinition Operation(string name, string description, string version = "1-0-0") =>
        new EventDefinition(name, description, version)
            .Integer(EventConventions.DurationMs, "How long the operation took, in milliseconds.", minimum: 0, required: true)
            .Enum(EventConventions.Outcome, "Whether the operation succeeded.", [EventConventions.OutcomeSuccess, EventConventions.OutcomeFailure], required: true)
            .String(EventConventions.ErrorCode, "The error code of a failed operation; never a message.", maxLength: 64);

    /// <summary>Declares the event recorded by <see cref="CandorClient.TrackError"/>: <c>error_type</c>
    /// (the exception's type name) and <c>error_code</c>. Default name: <c>error</c>.</summary>
    public static EventDefinition Error(string name = EventConventions.ErrorEvent, string description = "An error the tool reported: its type and code, never its message or stack.", string version = "1-0-0") =>
        new EventDefinition(name, description, version)
            .String(EventConventions.ErrorType, "The exception's type name.", maxLength: 200, required: true)
            .String(EventConventions.ErrorCode, "The error's code, e.g. an HRESULT or a socket error name.", maxLength: 64);

    /// <summary>Declares a string property; values are redacted, then cut to <paramref name="maxLength"/>
    /// (default <see cref="DefaultMaxLength"/>).</summary>
    public EventDefinition String(string name, string description, int maxLength = DefaultMaxLength, bool required = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        return Add(new PropertyDefinition(name, description, PropertyType.String, required) { MaxLength = maxLength });
    }

    /// <summary>Declares a string property that is cut to <paramref name="maxLength"/> but not redacted: for
    /// values the SDK's own code makes from the host's code or sanitizes itself (a route template such as
    /// <c>/users/{id}</c>, which the path rule would otherwise turn into <c>&lt;path&gt;</c>; a client token
    /// such as <c>curl/8</c>). Never for text a user typed or a request carried.</summary>
    internal EventDefinition VerbatimString(string name, string description, int maxLength, bool required = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        return Add(new PropertyDefinition(name, description, PropertyType.String, required) { MaxLength = maxLength, Verbatim = true });
    }

    /// <summary>Declares an integer property; values outside [<paramref name="minimum"/>, <paramref name="maximum"/>]
    /// (default unbounded) are dropped and reported.</summary>
    public EventDefinition Integer(string name, string description, long? minimum = null, long? maximum = null, bool required = false) =>
        Add(new PropertyDefinition(name, description, PropertyType.Integer, required) { Minimum = minimum, Maximum = maximum });

    /// <summary>Declares a count: an optional integer property ≥ 0, the same as
    /// <c>Integer(name, description, minimum: 0)</c>. Operations set counts with <see cref="TelemetryOperation.Count"/>
    /// and <see cref="TelemetryOperation.Add"/>.</summary>
    /// <example>
    /// <code>
    /// EventDefinition.Operation("import", "Records were imported.").Count("records", "Records imported.");
    /// </code>
    /// </example>
    public EventDefinition Count(string name, string description) =>
        Integer(name, description, minimum: 0);

    /// <summary>Declares a number property; integers are accepted too. Values outside
    /// [<paramref name="minimum"/>, <paramref name="maximum"/>] (default unbounded), NaN and infinities are dropped and reported.</summary>
    public EventDefinition Number(string name, string description, double? minimum = null, double? maximum = null, bool required = false) =>
        Add(new PropertyDefinition(name, description, PropertyType.Number, required) { Minimum = minimum, Maximum = maximum });

    /// <summary>Declares a boolean property.</summary>
    public EventDefinition Boolean(string name, string description, bool required = false) =>
        Add(new PropertyDefinition(name, description, PropertyType.Boolean, required));

    /// <summary>Declares a property that holds one of <paramref name="values"/>; other values are dropped and reported.</summary>
    public EventDefinition Enum(string name, string description, IReadOnlyList<string> values, bool required = false)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0 || values.Any(string.IsNullOrEmpty) || new HashSet<string>(values, StringComparer.Ordinal).Count != values.Count)
        {
            throw new ArgumentException($"Enum property '{name}' needs distinct, non-empty values.", nameof(values));
        }

        return Add(new PropertyDefinition(name, description, PropertyType.Enum, required) { Values = [.. values] });
    }

    /// <summary>The index of a declared property, or -1.</summary>
    internal int IndexOf(string propertyName) => _index.TryGetValue(propertyName, out var i) ? i : -1;

    internal int RequiredCount { get; private set; }

    internal PropertyDefinition PropertyAt(int index) => _properties[index];

    internal int PropertyCount => _properties.Count;

    private EventDefinition Add(PropertyDefinition property)
    {
        CheckName(property.Name, nameof(property));
        ArgumentNullException.ThrowIfNull(property.Description, nameof(property));
        if (!_index.TryAdd(property.Name, _properties.Count))
        {
            throw new ArgumentException($"Event '{Name}' declares property '{property.Name}' twice.", nameof(property));
        }

        _properties.Add(property);
        if (property.Required)
        {
            RequiredCount++;
        }

        return this;
    }

    internal static void CheckName(string name, string parameter)
    {
        ArgumentNullException.ThrowIfNull(name, parameter);
        if (name.Length is 0 or > 64 || !char.IsAsciiLetterLower(name[0]) || !IsLowerSnake(name, allowDash: false))
        {
            throw new ArgumentException($"Name '{name}' must be 1 to 64 lower-case letters, digits or '_', starting with a letter.", parameter);
        }
    }

    /// <summary>Only lower-case ASCII letters, digits, '_' (and '-' when allowed). A loop rather than LINQ:
    /// catalogs are built at start-up, where every generic instantiation over <c>char</c> costs JIT time.</summary>
    internal static bool IsLowerSnake(string value, bool allowDash)
    {
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_' || (allowDash && c == '-')))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsSchemaVer(string? version)
    {
        // MODEL-REVISION-ADDITION: three numbers without leading zeros, MODEL at least 1.
        var parts = version?.Split('-');
        if (parts is not { Length: 3 })
        {
            return false;
        }

        foreach (var part in parts)
        {
            if (part.Length is 0 or > 9 || (part.Length > 1 && part[0] == '0'))
            {
                return false;
            }

            foreach (var c in part)
            {
                if (!char.IsAsciiDigit(c))
                {
                    return false;
                }
            }
        }

        return parts[0] != "0";
    }
}
