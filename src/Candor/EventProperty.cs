using Candor.Protocol;

namespace Candor;

/// <summary>One property of a tracked event: a declared name and its value. Used with
/// <see cref="CandorClient.Track(string, ReadOnlySpan{EventProperty})"/>, which takes them without allocating a dictionary.</summary>
/// <param name="name">The property name as declared in the event catalog.</param>
/// <param name="value">The value; strings are redacted before they are queued.</param>
public readonly struct EventProperty(string name, PropertyValue value)
{
    /// <summary>The property name.</summary>
    public string Name { get; } = name;

    /// <summary>The value.</summary>
    public PropertyValue Value { get; } = value;
}
