using Candor.Catalog;

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
    /// what is collected, why, and how to turn it off. Default: a notice written from <see cref="Catalog"/>
    /// (each event with its description, one line each; how to see every property with
    /// <c>telemetry show --schema</c>; the collector's privacy page) naming the product, its environment
    /// variable and its <c>telemetry disable</c> command, so it cannot drift from what is sent.</summary>
    public string? NoticeText { get; set; }

    /// <summary>The notice's version. Raise it when the notice changes: users who saw an older version
    /// see the new one once, and nothing is sent until they have. Default: 1. Allowed: 1 or more.</summary>
    public int NoticeVersion { get; set; } = 1;

    /// <summary>Environment variables the tool honoured before it used Candor, with their polarity,
    /// e.g. <c>new("ACME_DISABLE_TELEMETRY", TelemetryAliasPolarity.OffWhenSet)</c>. They rank with
    /// <c>&lt;prefix&gt;_TELEMETRY</c>. Default: none.</summary>
    public IList<TelemetryVariableAlias> LegacyVariables { get; } = [];

    /// <summary>Every event the tool may send. Events and properties not declared here are dropped and
    /// reported through the <c>Candor</c> EventSource, never thrown. Default: none (every event is dropped).</summary>
    public EventCatalog? Catalog { get; set; }

    /// <summary>The most events in one request. Default: 100. Allowed: 1 to 1000 (the collector's limit).</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>The most (estimated, uncompressed) bytes in one request. Default: 512 KiB. Allowed: 4 KiB to 4 MiB.</summary>
    public int MaxBatchBytes { get; set; } = 512 * 1024;

    /// <summary>How long a long-running process lets events gather before it sends them, unless a batch
    /// fills first. Short-lived tools send at exit instead. Default: 5 s. Allowed: 10 ms to 10 min.</summary>
    public TimeSpan BatchInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait for a TCP (and TLS) connection to the collector. Default: 2 s. Allowed: 10 ms to 60 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest a background request may take, end to end. At exit the flush budget bounds it
    /// instead. Default: 10 s. Allowed: 100 ms to 5 min.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many times a background batch is tried before it goes to the spool. Default: 3. Allowed: 1 to 10.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>The first wait after a failed request; it doubles with each consecutive failure (with
    /// jitter) up to <see cref="MaxRetryDelay"/>. A collector's <c>Retry-After</c> is always honoured.
    /// Default: 1 s. Allowed: 1 ms to 1 min.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between attempts, including a <c>Retry-After</c>. Default: 5 min. Allowed: 1 ms to 1 h.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The most bytes the on-disk spool of undelivered batches may hold for this product; the
    /// oldest batches are dropped beyond it. Default: 1 MiB. Allowed: 0 (no spool) to 100 MiB.</summary>
    public long SpoolMaxBytes { get; set; } = 1024 * 1024;

    /// <summary>The most batches the spool may hold; the oldest are dropped beyond it. Default: 100. Allowed: 0 (no spool) to 10 000.</summary>
    public int SpoolMaxFiles { get; set; } = 100;

    /// <summary>How long an undelivered batch is kept for a later run before it is discarded.
    /// Default: 7 days. Allowed: 1 minute to 90 days.</summary>
    public TimeSpan SpoolMaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How many of the most recent events the transparency log keeps for the user to read.
    /// Default: 100. Allowed: 0 (no log) to 10 000.</summary>
    public int TransparencyLogSize { get; set; } = 100;

    /// <summary>The clock the client reads: event times, operation durations, each batch's
    /// <c>sent_at</c>, the batch interval, retry delays and the spool's ages. Default:
    /// <see cref="TimeProvider.System"/>. For a host's own tests (e.g. a <c>FakeTimeProvider</c>, to get
    /// known event times); the flush budget and the network timeouts always run on real time, so a
    /// stopped clock never holds the process.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>How long the delivery thread stays idle after the client starts unless an event or
    /// <see cref="CandorClient.WarmUp"/> comes first (<see cref="Delivery.DeliveryLoop.WarmUpDelay"/>; tests lengthen it).</summary>
    internal TimeSpan IdleWarmUpDelay { get; set; } = Delivery.DeliveryLoop.WarmUpDelay;

    /// <summary>Where the spool and the transparency log live instead of the OS state directory (a service's
    /// configured state directory; see Candor.Hosting). Default: none.</summary>
    internal string? StateDirectory { get; set; }

    /// <summary>Makes the handler requests go through instead of the SDK's own (a service's
    /// <c>IHttpClientFactory</c> client; see Candor.Hosting). Default: none.</summary>
    internal Func<HttpMessageHandler>? HttpHandlerFactory { get; set; }

    internal string ResolvedEnvironmentPrefix =>
        string.IsNullOrWhiteSpace(EnvironmentPrefix)
            ? ProductName.ToUpperInvariant().Replace('-', '_')
            : EnvironmentPrefix;

    /// <summary>The tool's own telemetry variable, e.g. <c>ACME_TELEMETRY</c>.</summary>
    internal string TelemetryVariable => ResolvedEnvironmentPrefix + "_TELEMETRY";

    /// <summary>The notice shown to the user: <see cref="NoticeText"/>, or, when the tool sets none, one
    /// written from <see cref="Catalog"/> (see <see cref="CatalogText.Notice"/>).</summary>
    internal string ResolvedNoticeText =>
        string.IsNullOrWhiteSpace(NoticeText) ? CatalogText.Notice(this) : NoticeText.TrimEnd();

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

        if (TimeProvider is null)
        {
            errors.Add("TimeProvider is required.");
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

        Range(errors, nameof(BatchSize), BatchSize, 1, 1000);
        Range(errors, nameof(MaxBatchBytes), MaxBatchBytes, 4 * 1024, 4 * 1024 * 1024);
        Range(errors, nameof(BatchInterval), BatchInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10));
        Range(errors, nameof(ConnectTimeout), ConnectTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(60));
        Range(errors, nameof(SendTimeout), SendTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5));
        Range(errors, nameof(MaxAttempts), MaxAttempts, 1, 10);
        Range(errors, nameof(RetryBaseDelay), RetryBaseDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        Range(errors, nameof(MaxRetryDelay), MaxRetryDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        Range(errors, nameof(SpoolMaxBytes), SpoolMaxBytes, 0, 100L * 1024 * 1024);
        Range(errors, nameof(SpoolMaxFiles), SpoolMaxFiles, 0, 10_000);
        Range(errors, nameof(SpoolMaxAge), SpoolMaxAge, TimeSpan.FromMinutes(1), TimeSpan.FromDays(90));
        Range(errors, nameof(TransparencyLogSize), TransparencyLogSize, 0, 10_000);
        return errors;
    }

    // Validation runs on every start of the host: plain loops, because LINQ and vectorized searches
    // (SearchValues) are compiled at startup, even in ReadyToRun images, and cost milliseconds.
    /// <summary>Lower-case letters, digits, <c>-</c> and <c>_</c> (also what Candor.Hosting checks).</summary>
    internal static bool IsProductName(string name)
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

    /// <summary>Letters, digits and <c>_</c>, not empty (also what Candor.Hosting checks).</summary>
    internal static bool IsVariableName(string? name)
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

    // One overload per type rather than a generic method: generic code over value types is compiled at
    // startup even in ReadyToRun images.
    private static void Range(List<string> errors, string name, long value, long minimum, long maximum)
    {
        if (value < minimum || value > maximum)
        {
            errors.Add($"{name} {value} must be between {minimum} and {maximum}.");
        }
    }

    private static void Range(List<string> errors, string name, TimeSpan value, TimeSpan minimum, TimeSpan maximum)
    {
        if (value < minimum || value > maximum)
        {
            errors.Add($"{name} {value} must be between {minimum} and {maximum}.");
        }
    }
}
