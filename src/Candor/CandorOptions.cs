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

    /// <summary>What happens before the user has chosen a level: <see cref="ConsentPolicy.OptIn"/>
    /// (off until enabled), <see cref="ConsentPolicy.OptOut"/> (a notice once, then anonymous) or
    /// <see cref="ConsentPolicy.Prompt"/> (ask on the first interactive run).
    /// Default: <see cref="ConsentPolicy.OptIn"/>.</summary>
    public ConsentPolicy DefaultPolicy { get; set; } = ConsentPolicy.OptIn;

    /// <summary>The notice printed to standard error on the first run under
    /// <see cref="ConsentPolicy.OptOut"/>, and above the question under <see cref="ConsentPolicy.Prompt"/>:
    /// what is collected, why, and how to turn it off. Default: a generic notice naming the product,
    /// its environment variable and its <c>telemetry disable</c> command.</summary>
    public string? NoticeText { get; set; }

    /// <summary>The notice's version. Raise it when the notice changes: users who saw an older version
    /// see the new one once, and nothing is sent until they have. Default: 1. Allowed: 1 or more.</summary>
    public int NoticeVersion { get; set; } = 1;

    /// <summary>Environment variables the tool honoured before it used Candor, with their polarity,
    /// e.g. <c>new("ACME_DISABLE_TELEMETRY", TelemetryAliasPolarity.OffWhenSet)</c>. They rank with
    /// <c>&lt;prefix&gt;_TELEMETRY</c>. Default: none.</summary>
    public IList<TelemetryVariableAlias> LegacyVariables { get; } = [];

    internal string ResolvedEnvironmentPrefix =>
        string.IsNullOrWhiteSpace(EnvironmentPrefix)
            ? ProductName.ToUpperInvariant().Replace('-', '_')
            : EnvironmentPrefix;

    /// <summary>The tool's own telemetry variable, e.g. <c>ACME_TELEMETRY</c>.</summary>
    internal string TelemetryVariable => ResolvedEnvironmentPrefix + "_TELEMETRY";

    internal string ResolvedNoticeText =>
        string.IsNullOrWhiteSpace(NoticeText)
            ? $"""
              {ProductName} collects anonymous usage data (commands run, exit codes, durations, versions, OS and
              CI name) to improve the tool. It never collects arguments, paths, host or user names.
              Turn it off with {TelemetryVariable}=off or DO_NOT_TRACK=1, or run `{ProductName} telemetry disable`;
              see what is recorded with `{ProductName} telemetry status`.
              """
            : NoticeText.TrimEnd();

    /// <summary>Every problem with these options, empty when they are valid.</summary>
    internal List<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ProductName))
        {
            errors.Add("ProductName is required.");
        }
        else if (!IsProductName(ProductName))
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

        if (DefaultPolicy is not (ConsentPolicy.OptIn or ConsentPolicy.OptOut or ConsentPolicy.Prompt))
        {
            errors.Add($"DefaultPolicy {DefaultPolicy} is not a known policy.");
        }

        if (NoticeVersion < 1)
        {
            errors.Add($"NoticeVersion {NoticeVersion} must be 1 or more.");
        }

        if (!string.IsNullOrWhiteSpace(EnvironmentPrefix) && !IsVariableName(EnvironmentPrefix))
        {
            errors.Add($"EnvironmentPrefix '{EnvironmentPrefix}' may hold only letters, digits and '_'.");
        }

        foreach (var alias in LegacyVariables)
        {
            if (alias is null || !IsVariableName(alias.Name) || alias.Polarity is not (TelemetryAliasPolarity.OffWhenSet or TelemetryAliasPolarity.OnWhenTrue))
            {
                errors.Add($"LegacyVariables entry '{alias?.Name}' needs a variable name (letters, digits, '_') and a known polarity.");
            }
        }

        return errors;
    }

    // Validation runs on every start of the host: plain loops, because LINQ and vectorized searches
    // (SearchValues) are compiled at startup, even in ReadyToRun images, and cost milliseconds.
    private static bool IsProductName(string name)
    {
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsVariableName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }
}
