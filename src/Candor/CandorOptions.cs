namespace Candor;

/// <summary>
/// How a tool author configures Candor, once, at startup. Validated by <see cref="CandorClient.Create"/>.
/// </summary>
public sealed class CandorOptions
{
    /// <summary>The product (tool) name, e.g. <c>acme</c>. Required; lower-case letters, digits,
    /// <c>-</c> and <c>_</c>.</summary>
    public string ProductName { get; set; } = "";

    /// <summary>The product version. Default: the informational version of the entry assembly.</summary>
    public string? ProductVersion { get; set; }

    /// <summary>The collector's base address, e.g. <c>https://telemetry.example.com/</c>.
    /// Default: none (nothing is sent).</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The product's write key, issued by the collector operator. Default: none.</summary>
    public string? WriteKey { get; set; }

    /// <summary>The prefix of the tool's environment variables, e.g. <c>ACME</c> for
    /// <c>ACME_TELEMETRY</c>. Default: the product name upper-cased, with <c>-</c> as <c>_</c>.</summary>
    public string? EnvironmentPrefix { get; set; }

    /// <summary>The most time <see cref="CandorClient.Dispose"/> may spend sending what is queued
    /// when the process exits. Default: 200 ms. Allowed: 0 to 10 s.</summary>
    public TimeSpan FlushBudget { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How many events may wait in memory; beyond that new events are dropped and
    /// counted, never waited for. Default: 1000. Allowed: 1 to 100 000.</summary>
    public int QueueCapacity { get; set; } = 1000;

    internal string ResolvedEnvironmentPrefix =>
        string.IsNullOrWhiteSpace(EnvironmentPrefix)
            ? ProductName.ToUpperInvariant().Replace('-', '_')
            : EnvironmentPrefix;

    /// <summary>Every problem with these options, empty when they are valid.</summary>
    internal List<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ProductName))
        {
            errors.Add("ProductName is required.");
        }
        else if (!ProductName.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_'))
        {
            errors.Add($"ProductName '{ProductName}' may hold only lower-case letters, digits, '-' and '_'.");
        }

        if (Endpoint is { IsAbsoluteUri: false } || Endpoint is { Scheme: not ("http" or "https") })
        {
            errors.Add($"Endpoint '{Endpoint}' must be an absolute http or https address.");
        }

        if (FlushBudget < TimeSpan.Zero || FlushBudget > TimeSpan.FromSeconds(10))
        {
            errors.Add($"FlushBudget {FlushBudget} must be between 0 and 10 seconds.");
        }

        if (QueueCapacity is < 1 or > 100_000)
        {
            errors.Add($"QueueCapacity {QueueCapacity} must be between 1 and 100000.");
        }

        return errors;
    }
}
