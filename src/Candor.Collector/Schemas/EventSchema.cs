using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Candor.Protocol;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Candor.Collector.Schemas;

/// <summary>The outcome of validating one event's properties.</summary>
internal readonly record struct SchemaCheck(string? Code, string? Message)
{
    public static SchemaCheck Valid => default;

    public bool IsValid => Code is null;
}

/// <summary>
/// One event schema, parsed by NJsonSchema. Telemetry properties are flat scalars, so the schemas
/// use a small set of keywords (type, enum, min/max length, minimum/maximum, pattern, required,
/// additionalProperties); for those the schema is compiled into a direct check over the
/// deserialized values, which is what lets the collector validate 100k events/s on two cores
/// (NJsonSchema's own validator needs a Newtonsoft token tree per event). A schema using any other
/// keyword is validated by NJsonSchema itself.
/// </summary>
internal sealed class EventSchema
{
    private readonly JsonSchema _schema;
    private readonly Dictionary<string, PropertyRule>? _rules;
    private readonly string[] _required;
    private readonly bool _additionalAllowed;

    private EventSchema(string product, string name, SchemaVersion version, JsonSchema schema)
    {
        Product = product;
        Name = name;
        Version = version;
        VersionText = version.ToString();
        Reference = $"{product}/{name}/{VersionText}";
        _schema = schema;
        _required = [.. schema.RequiredProperties];
        _additionalAllowed = schema.AllowAdditionalProperties;
        _rules = Compile(schema);
    }

    public string Product { get; }

    public string Name { get; }

    public SchemaVersion Version { get; }

    /// <summary><see cref="Version"/> as stored with each event (made once, not per event).</summary>
    public string VersionText { get; }

    public string Reference { get; }

    /// <summary>The parsed schema, for describing it (the privacy page); validation goes through <see cref="Validate"/>.</summary>
    public JsonSchema Document => _schema;

    /// <summary>Whether validation uses the compiled check (true) or NJsonSchema's validator.</summary>
    public bool IsCompiled => _rules is not null;

    public static async Task<EventSchema> LoadAsync(string product, string name, SchemaVersion version, string json)
    {
        var schema = await JsonSchema.FromJsonAsync(json);
        if (!schema.Type.HasFlag(JsonObjectType.Object))
        {
            throw new InvalidDataException("The schema must describe an object (\"type\": \"object\").");
        }

        // Iglu-style self-description, when present, must agree with where the file lies.
        if (schema.ExtensionData?.TryGetValue("self", out var self) == true && self is not null)
        {
            using var selfData = JsonDocument.Parse(Newtonsoft.Json.JsonConvert.SerializeObject(self));
            Check(selfData.RootElement, "vendor", product);
            Check(selfData.RootElement, "name", name);
            Check(selfData.RootElement, "version", version.ToString());
        }

        return new EventSchema(product, name, version, schema);
    }

    public SchemaCheck Validate(IDictionary<string, PropertyValue>? properties)
    {
        if (_rules is null)
        {
            return ValidateWithNJsonSchema(properties);
        }

        if (properties is not null)
        {
            // Deserialized batches hold a Dictionary: enumerate it as one, without boxing an enumerator per event.
            foreach (var (key, value) in properties as Dictionary<string, PropertyValue> ?? new Dictionary<string, PropertyValue>(properties))
            {
                if (!_rules.TryGetValue(key, out var rule))
                {
                    if (!_additionalAllowed)
                    {
                        return new SchemaCheck(ErrorCodes.UndeclaredProperty, $"'{key}' is not declared in {Reference}.");
                    }

                    continue;
                }

                if (rule.Check(value) is { } problem)
                {
                    return new SchemaCheck(ErrorCodes.InvalidProperty, $"'{key}' {problem} ({Reference}).");
                }
            }
        }

        foreach (var required in _required)
        {
            if (properties is null || !properties.ContainsKey(required))
            {
                return new SchemaCheck(ErrorCodes.InvalidProperty, $"'{required}' is required by {Reference}.");
            }
        }

        return SchemaCheck.Valid;
    }

    /// <summary>The reference path: NJsonSchema's own validator (used for schemas outside the compiled subset, and by tests to check the compiled path agrees).</summary>
    public SchemaCheck ValidateWithNJsonSchema(IDictionary<string, PropertyValue>? properties)
    {
        var json = properties is null ? "{}" : JsonSerializer.Serialize(properties, CollectorJsonContext.Default.IDictionaryStringPropertyValue);
        var errors = _schema.Validate(json);
        if (errors.Count == 0)
        {
            return SchemaCheck.Valid;
        }

        var first = errors.First();
        var code = first.Kind == ValidationErrorKind.NoAdditionalPropertiesAllowed ? ErrorCodes.UndeclaredProperty : ErrorCodes.InvalidProperty;
        return new SchemaCheck(code, $"'{first.Property ?? first.Path}': {first.Kind} ({Reference}).");
    }

    private static void Check(JsonElement self, string key, string expected)
    {
        if (self.ValueKind == JsonValueKind.Object && self.TryGetProperty(key, out var value) &&
            !string.Equals(value.ToString(), expected, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"self.{key} is '{value}' but the file's place says '{expected}'.");
        }
    }

    private static Dictionary<string, PropertyRule>? Compile(JsonSchema schema)
    {
        if (!IsPlain(schema) || schema.AdditionalPropertiesSchema is not null || schema.PatternProperties.Count > 0)
        {
            return null;
        }

        var rules = new Dictionary<string, PropertyRule>(StringComparer.Ordinal);
        foreach (var (key, property) in schema.Properties)
        {
            if (!IsPlain(property) || property.Reference is not null || !string.IsNullOrEmpty(property.Format) ||
                property.Type.HasFlag(JsonObjectType.Object) || property.Type.HasFlag(JsonObjectType.Array) ||
                property.IsExclusiveMinimum || property.IsExclusiveMaximum || property.ExclusiveMinimum is not null ||
                property.ExclusiveMaximum is not null || property.MultipleOf is not null)
            {
                return null;
            }

            rules[key] = new PropertyRule(property);
        }

        return rules;
    }

    private static bool IsPlain(JsonSchema schema) =>
        schema.AllOf.Count == 0 && schema.AnyOf.Count == 0 && schema.OneOf.Count == 0 && schema.Not is null;

    /// <summary>The compiled check of one declared property.</summary>
    private sealed class PropertyRule
    {
        private readonly JsonObjectType _type;
        private readonly object?[]? _enum;
        private readonly int? _minLength;
        private readonly int? _maxLength;
        private readonly double? _minimum;
        private readonly double? _maximum;
        private readonly Regex? _pattern;

        public PropertyRule(JsonSchemaProperty property)
        {
            _type = property.Type;
            _enum = property.Enumeration.Count > 0 ? [.. property.Enumeration] : null;
            _minLength = property.MinLength;
            _maxLength = property.MaxLength;
            _minimum = property.Minimum is { } min ? (double)min : null;
            _maximum = property.Maximum is { } max ? (double)max : null;
            _pattern = string.IsNullOrEmpty(property.Pattern) ? null : new Regex(property.Pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
        }

        // A loop, not Any(lambda): a closure per checked value adds up at ingest rates.
        private bool IsDeclared(PropertyValue value)
        {
            foreach (var allowed in _enum!)
            {
                if (Matches(allowed, value))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>What is wrong with the value, or <see langword="null"/> when it is valid.</summary>
        public string? Check(PropertyValue value)
        {
            var kindOk = _type == JsonObjectType.None || value.Kind switch
            {
                PropertyKind.Null => _type.HasFlag(JsonObjectType.Null),
                PropertyKind.String => _type.HasFlag(JsonObjectType.String),
                PropertyKind.Integer => _type.HasFlag(JsonObjectType.Integer) || _type.HasFlag(JsonObjectType.Number),
                PropertyKind.Number => _type.HasFlag(JsonObjectType.Number),
                PropertyKind.Boolean => _type.HasFlag(JsonObjectType.Boolean),
                _ => false,
            };
            if (!kindOk)
            {
                return $"must be {_type.ToString().ToLowerInvariant()}, not {value.Kind.ToString().ToLowerInvariant()}";
            }

            if (_enum is not null && !IsDeclared(value))
            {
                return "is not one of the declared values";
            }

            if (value.Kind == PropertyKind.String)
            {
                var length = value.AsString!.Length;
                if (length < _minLength || length > _maxLength)
                {
                    return "has a length outside the declared bounds";
                }

                if (_pattern is not null && !_pattern.IsMatch(value.AsString))
                {
                    return "does not match the declared pattern";
                }
            }
            else if (value.Kind is PropertyKind.Integer or PropertyKind.Number && (value.AsNumber < _minimum || value.AsNumber > _maximum))
            {
                return "is outside the declared range";
            }

            return null;
        }

        private static bool Matches(object? allowed, PropertyValue value) => allowed switch
        {
            null => value.Kind == PropertyKind.Null,
            string s => value.Kind == PropertyKind.String && string.Equals(s, value.AsString, StringComparison.Ordinal),
            bool b => value.Kind == PropertyKind.Boolean && b == value.AsBoolean,
            IConvertible number when value.Kind is PropertyKind.Integer or PropertyKind.Number =>
                number.ToDouble(CultureInfo.InvariantCulture) == value.AsNumber,
            _ => false,
        };
    }
}
