namespace Candor.Catalog;

/// <summary>The type of a declared event property.</summary>
public enum PropertyType
{
    /// <summary>A string, redacted on the client and bounded by a maximum length.</summary>
    String,

    /// <summary>A 64-bit integer, optionally bounded. Counts are integers.</summary>
    Integer,

    /// <summary>A double-precision number, optionally bounded.</summary>
    Number,

    /// <summary>A boolean.</summary>
    Boolean,

    /// <summary>One of a fixed set of strings.</summary>
    Enum,
}
