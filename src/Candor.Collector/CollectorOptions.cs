namespace Candor.Collector;

/// <summary>
/// The collector's settings, bound from the <c>Candor</c> configuration section
/// (appsettings.json, <c>Candor__*</c> environment variables, or <c>--Candor:Key=value</c>).
/// </summary>
internal sealed class CollectorOptions
{
    public const string Section = "Candor";

    /// <summary>Where the collector keeps its database and generated development credentials.
    /// Default: <c>candor-data</c>, relative to the working directory.</summary>
    public string DataDirectory { get; set; } = "candor-data";

    /// <summary>The DuckDB database file. Default: <c>candor.duckdb</c> inside <see cref="DataDirectory"/>.</summary>
    public string? DatabasePath { get; set; }

    /// <summary>The admin token for the read and admin endpoints. Default: a development token
    /// generated on the first run and kept in the data directory.</summary>
    public string? AdminToken { get; set; }

    /// <summary>The products this collector accepts, by name, each with its write key. Default:
    /// none, in which case a development write key that accepts any product is generated on the
    /// first run and kept in the data directory.</summary>
    public Dictionary<string, ProductOptions> Products { get; set; } = new(StringComparer.Ordinal);

    public string ResolvedDatabasePath =>
        string.IsNullOrWhiteSpace(DatabasePath) ? Path.Combine(DataDirectory, "candor.duckdb") : DatabasePath;

    public List<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            errors.Add("Candor:DataDirectory must not be empty.");
        }

        foreach (var (name, product) in Products)
        {
            if (string.IsNullOrWhiteSpace(product.WriteKey))
            {
                errors.Add($"Candor:Products:{name}:WriteKey must be set.");
            }
            else if (product.WriteKey.Length < 16)
            {
                errors.Add($"Candor:Products:{name}:WriteKey must be at least 16 characters.");
            }
        }

        if (AdminToken is { Length: < 16 })
        {
            errors.Add("Candor:AdminToken must be at least 16 characters.");
        }

        return errors;
    }
}

/// <summary>One product the collector accepts events for.</summary>
internal sealed class ProductOptions
{
    /// <summary>The write key the product's clients send in <c>X-Candor-Write-Key</c>.</summary>
    public string? WriteKey { get; set; }
}
