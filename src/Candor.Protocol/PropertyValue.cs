using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Candor.Protocol;

/// <summary>The kind of value a property holds.</summary>
public enum PropertyKind
{
    /// <summary>No value (JSON <c>null</c>).</summary>
    Null,
    /// <summary>A string.</summary>
    String,
    /// <summary>A 64-bit integer.</summary>
    Integer,
    /// <summary>A double-precision number.</summary>
    Number,
    /// <summary>A boolean.</summary>
    Boolean,
}

/// <summary>
/// A property value: a string, an integer, a number or a boolean. Telemetry properties are flat by
/// design, so nested objects and arrays are not representable.
/// </summary>
[JsonConverter(typeof(PropertyValueJsonConverter))]
public readonly struct PropertyValue : IEquatable<PropertyValue>
{
    private readonly string? _string;
    private readonly long _integer;
    private readonly double _number;

    private PropertyValue(PropertyKind kind, string? s, long i, double d)
    {
        Kind = kind;
        _string = s;
        _integer = i;
        _number = d;
    }

    /// <summary>The kind of value held.</summary>
    public PropertyKind Kind { get; }

    /// <summary>The string value, or <see langword="null"/> when the kind is not <see cref="PropertyKind.String"/>.</summary>
    public string? AsString => Kind == PropertyKind.String ? _string : null;

    /// <summary>The integer value; 0 unless the kind is <see cref="PropertyKind.Integer"/> or <see cref="PropertyKind.Boolean"/>.</summary>
    public long AsInteger => Kind is PropertyKind.Integer or PropertyKind.Boolean ? _integer : 0;

    /// <summary>The numeric value of an integer or number; 0 otherwise.</summary>
    public double AsNumber => Kind switch
    {
        PropertyKind.Number => _number,
        PropertyKind.Integer => _integer,
        _ => 0,
    };

    /// <summary>The boolean value; <see langword="false"/> unless the kind is <see cref="PropertyKind.Boolean"/>.</summary>
    public bool AsBoolean => Kind == PropertyKind.Boolean && _integer != 0;

    /// <summary>The null value.</summary>
    public static PropertyValue Null => default;

    /// <summary>Makes a string value (<see langword="null"/> makes the null value).</summary>
    public static PropertyValue FromString(string? value) =>
        value is null ? default : new(PropertyKind.String, value, 0, 0);

    /// <summary>Makes an integer value.</summary>
    public static PropertyValue FromInteger(long value) => new(PropertyKind.Integer, null, value, 0);

    /// <summary>Makes a number value.</summary>
    public static PropertyValue FromNumber(double value) => new(PropertyKind.Number, null, 0, value);

    /// <summary>Makes a boolean value.</summary>
    public static PropertyValue FromBoolean(bool value) => new(PropertyKind.Boolean, null, value ? 1 : 0, 0);

    /// <summary>Converts a string.</summary>
    public static implicit operator PropertyValue(string? value) => FromString(value);

    /// <summary>Converts an integer.</summary>
    public static implicit operator PropertyValue(long value) => FromInteger(value);

    /// <summary>Converts an integer.</summary>
    public static implicit operator PropertyValue(int value) => FromInteger(value);

    /// <summary>Converts a number.</summary>
    public static implicit operator PropertyValue(double value) => FromNumber(value);

    /// <summary>Converts a boolean.</summary>
    public static implicit operator PropertyValue(bool value) => FromBoolean(value);

    /// <inheritdoc />
    public bool Equals(PropertyValue other) =>
        Kind == other.Kind && _integer == other._integer && _number.Equals(other._number) &&
        string.Equals(_string, other._string, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PropertyValue other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, _string, _integer, _number);

    /// <summary>Compares two values.</summary>
    public static bool operator ==(PropertyValue left, PropertyValue right) => left.Equals(right);

    /// <summary>Compares two values.</summary>
    public static bool operator !=(PropertyValue left, PropertyValue right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        PropertyKind.String => _string!,
        PropertyKind.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        PropertyKind.Number => _number.ToString("R", CultureInfo.InvariantCulture),
        PropertyKind.Boolean => _integer != 0 ? "true" : "false",
        _ => "null",
    };
}

/// <summary>Reads and writes <see cref="PropertyValue"/> as a plain JSON scalar.</summary>
public sealed class PropertyValueJsonConverter : JsonConverter<PropertyValue>
{
    /// <inheritdoc />
    public override bool HandleNull => true;

    /// <inheritdoc />
    public override PropertyValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return PropertyValue.Null;
            case JsonTokenType.String:
                return PropertyValue.FromString(reader.GetString());
            case JsonTokenType.True:
                return PropertyValue.FromBoolean(true);
            case JsonTokenType.False:
                return PropertyValue.FromBoolean(false);
            case JsonTokenType.Number:
                return reader.TryGetInt64(out var integer)
                    ? PropertyValue.FromInteger(integer)
                    : PropertyValue.FromNumber(reader.GetDouble());
            default:
                throw new JsonException("A property value must be a string, a number, a boolean or null; objects and arrays are not allowed.");
        }
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, PropertyValue value, JsonSerializerOptions options)
    {
        switch (value.Kind)
        {
            case PropertyKind.String:
                writer.WriteStringValue(value.AsString);
                break;
            case PropertyKind.Integer:
                writer.WriteNumberValue(value.AsInteger);
                break;
            case PropertyKind.Number:
                writer.WriteNumberValue(value.AsNumber);
                break;
            case PropertyKind.Boolean:
                writer.WriteBooleanValue(value.AsBoolean);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }
}
