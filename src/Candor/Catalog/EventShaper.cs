using Candor.Diagnostics;
using Candor.Protocol;
using Candor.Redaction;

namespace Candor.Catalog;

/// <summary>
/// Checks a tracked event's properties against its declaration and redacts its strings: the only
/// place values enter the SDK. Whatever is not declared, has the wrong type or breaks a limit is
/// dropped and reported, never thrown.
/// </summary>
internal static class EventShaper
{
    /// <summary>The values by declared index, or <see langword="null"/> when the event must be dropped
    /// (a required property is missing or invalid).</summary>
    public static PropertyValue[]? Shape(EventDefinition definition, ReadOnlySpan<EventProperty> properties, Redactor redactor)
    {
        var count = definition.PropertyCount;
        var values = count == 0 ? [] : new PropertyValue[count];
        foreach (ref readonly var property in properties)
        {
            Accept(definition, property.Name, property.Value, values, redactor);
        }

        return HasRequired(definition, values) ? values : null;
    }

    /// <summary>The same for properties given as a dictionary.</summary>
    public static PropertyValue[]? Shape(EventDefinition definition, IReadOnlyDictionary<string, PropertyValue>? properties, Redactor redactor)
    {
        var count = definition.PropertyCount;
        var values = count == 0 ? [] : new PropertyValue[count];
        if (properties is not null)
        {
            foreach (var (name, value) in properties)
            {
                Accept(definition, name, value, values, redactor);
            }
        }

        return HasRequired(definition, values) ? values : null;
    }

    private static void Accept(EventDefinition definition, string? name, PropertyValue value, PropertyValue[] values, Redactor redactor)
    {
        if (name is null)
        {
            return; // default(EventProperty): a slot the caller chose to leave empty
        }

        var index = definition.IndexOf(name);
        if (index < 0)
        {
            Drop(definition, name, "not declared");
            return;
        }

        if (value.Kind == PropertyKind.Null)
        {
            return;
        }

        var declared = definition.PropertyAt(index);
        var reason = Check(declared, ref value, redactor);
        if (reason is null)
        {
            values[index] = value;
        }
        else
        {
            Drop(definition, declared.Name, reason);
        }
    }

    /// <summary>Null when the value is accepted (possibly rewritten), else why it is not.</summary>
    private static string? Check(PropertyDefinition declared, ref PropertyValue value, Redactor redactor)
    {
        switch (declared.Type)
        {
            case PropertyType.String when value.Kind == PropertyKind.String:
                var redacted = declared.Verbatim ? value.AsString! : redactor.Redact(value.AsString!);
                if (redacted.Length > declared.MaxLength)
                {
                    redacted = redacted[..declared.MaxLength];
                }

                if (!ReferenceEquals(redacted, value.AsString))
                {
                    value = PropertyValue.FromString(redacted);
                }

                return null;
            case PropertyType.Enum when value.Kind == PropertyKind.String:
                foreach (var allowed in declared.Values)
                {
                    if (string.Equals(allowed, value.AsString, StringComparison.Ordinal))
                    {
                        return null;
                    }
                }

                return "not one of the declared values";
            case PropertyType.Boolean when value.Kind == PropertyKind.Boolean:
                return null;
            case PropertyType.Integer when value.Kind == PropertyKind.Integer:
            case PropertyType.Number when value.Kind is PropertyKind.Integer or PropertyKind.Number:
                var number = value.AsNumber;
                if (!double.IsFinite(number))
                {
                    return "not a finite number";
                }

                return number < declared.Minimum || number > declared.Maximum ? "out of the declared range" : null;
            default:
                return "wrong type";
        }
    }

    private static bool HasRequired(EventDefinition definition, PropertyValue[] values)
    {
        if (definition.RequiredCount == 0)
        {
            return true;
        }

        for (var i = 0; i < values.Length; i++)
        {
            if (values[i].Kind == PropertyKind.Null && definition.PropertyAt(i).Required)
            {
                Drop(definition, definition.PropertyAt(i).Name, "required but missing; event dropped");
                return false;
            }
        }

        return true;
    }

    private static void Drop(EventDefinition definition, string property, string reason)
    {
        if (CandorEventSource.Log.IsEnabled())
        {
            CandorEventSource.Log.PropertyDropped(definition.Name, property, reason);
        }
    }
}
