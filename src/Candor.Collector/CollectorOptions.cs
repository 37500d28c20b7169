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

    /// <summary>The viewer token: admits the dashboard, the analytics API and nothing else, and every
    /// answer under it is k-anonymous (no figure from fewer than <c>Candor:Analytics:MinimumGroupSize</c>
    /// installs, no install ids). Default: none (only the admin token reads). At least 16 characters.</summary>
    public string? ViewerToken { get; set; }

    /// <summary>How often retention runs (deleting each product's expired events and quarantine rows);
    /// <c>0</c> never. Default: 1 hour.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The admin token for the read and admin endpoints. Default: a development token
    /// generated on the first run and kept in the data directory.</summary>
    public string? AdminToken { get; set; }

    /// <summary>The products this collector accepts, by name, each with its write key. Default:
    /// none, in which case a development write key that accepts any product is generated on the
    /// first run and kept in the data directory.</summary>
    public Dictionary<string, ProductOptions> Products { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The storage engine, chosen once at startup: <c>duckdb</c> (embedded, the default) or
    /// <c>postgres</c> (needs <see cref="ConnectionString"/>).</summary>
    public string Storage { get; set; } = "duckdb";

    /// <summary>DuckDB's memory limit (its buffer pool and caches), in DuckDB's notation. Default: <c>48MB</c>.</summary>
    public string DuckDbMemoryLimit { get; set; } = "48MB";

    /// <summary>The WAL size at which the store's applier checkpoints the DuckDB file itself, with DuckDB
    /// held to one thread, while requests are still acknowledged from the ingest journal
    /// (docs/operator-guide.md § Storage); <c>0</c> leaves checkpoints to DuckDB, inside one of the
    /// applier's commits. Default: <c>128MB</c> (measured
    /// against 256MB at 50k events/s: shorter checkpoints, and the journal's cap is not reached).</summary>
    public string DuckDbCheckpointSize { get; set; } = "128MB";

    /// <summary><see cref="DuckDbCheckpointSize"/> in bytes (valid options only).</summary>
    public long DuckDbCheckpointBytes => SizeInBytes(DuckDbCheckpointSize) ?? 0;

    /// <summary>The one grammar of sizes in these options (DuckDB's notation): a number, whole or
    /// decimal, and a unit (<c>512KB</c>, <c>256MB</c>, <c>1.5GB</c>; KB/KiB, MB/MiB, GB/GiB, all units
    /// of 1024), or <c>0</c>. Returns <see langword="null"/> for anything else.</summary>
    internal static long? SizeInBytes(string text)
    {
        var match = System.Text.RegularExpressions.Regex.Match(text.Trim(), "^([0-9]+(?:\\.[0-9]+)?)\\s*(KB|MB|GB|KiB|MiB|GiB)?$", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        if (!match.Success || !decimal.TryParse(match.Groups[1].Value, System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }

        var shift = match.Groups[2].Value.ToUpperInvariant() switch { "" => number == 0 ? 0 : -1, "KB" or "KIB" => 10, "MB" or "MIB" => 20, _ => 30 };
        if (shift < 0 || number > (long.MaxValue >> 30))
        {
            return null;
        }

        return (long)(number * (1L << shift));
    }

    /// <summary>The PostgreSQL connection string when <see cref="Storage"/> is <c>postgres</c>. Default: none.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>The schema registry: <c>&lt;dir&gt;/&lt;product&gt;/&lt;event-name&gt;/&lt;MODEL-REVISION-ADDITION&gt;.json</c>
    /// JSON Schema files, reloaded when they change. Default: <c>schemas</c>, relative to the working directory.</summary>
    public string SchemaDirectory { get; set; } = "schemas";

    /// <summary>Addresses (<c>10.0.0.1</c>) or networks (<c>10.0.0.0/8</c>) of reverse proxies whose
    /// <c>X-Forwarded-For</c> is believed. Default: none, so forwarding headers are ignored.</summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>A MaxMind GeoIP2/GeoLite2 City or Country database, for country and region. Default: none (no geo).</summary>
    public string? GeoIpDatabase { get; set; }

    /// <summary>Whether to store a pseudonym of the client address: an HMAC with a random key that
    /// rotates every UTC day and is held in memory only. Default: <see langword="false"/>.</summary>
    public bool PseudonymizeIp { get; set; }

    /// <summary>How far after its arrival an event's skew-corrected time may lie before the event is
    /// rejected (<c>time_in_future</c>). Default: 10 minutes.</summary>
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How old an event's skew-corrected time may be before the event is rejected
    /// (<c>time_too_old</c>). Default: 30 days.</summary>
    public TimeSpan MaxEventAge { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The longest string accepted in a property value or a context field, in characters. Default: 1024.</summary>
    public int MaxStringLength { get; set; } = 1024;

    /// <summary>How many of a rejected event's JSON characters the quarantine keeps. Default: 4096.</summary>
    public int QuarantineEventChars { get; set; } = 4096;

    /// <summary>How long a request's body may take to arrive, whatever its rate; beyond that the
    /// collector answers 408 <c>body_timeout</c>. Default: 30 seconds (a 1 MB body at 35 KB/s).</summary>
    public TimeSpan MaxBodyReadTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The slowest a request body may arrive, in bytes per second after a 5-second grace
    /// period (Kestrel's check; answered 408 <c>body_timeout</c>); <c>0</c> keeps Kestrel's default of 240.
    /// Default: 1024.</summary>
    public int MinBodyBytesPerSecond { get; set; } = 1024;

    /// <summary>How often the collector checks whether to give memory back to the operating system
    /// after a burst (Operations/MemoryTrimmer.cs); <c>0</c> never. Default: 10 seconds.</summary>
    public TimeSpan MemoryTrimInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The GC-committed memory above which a check gives memory back, in DuckDB's size
    /// notation. Default: <c>96MB</c> (ordinary full-rate ingest stays under it).</summary>
    public string MemoryTrimAbove { get; set; } = "96MB";

    /// <summary><see cref="MemoryTrimAbove"/> in bytes (valid options only).</summary>
    public long MemoryTrimAboveBytes => SizeInBytes(MemoryTrimAbove) ?? 0;

    /// <summary>How many request bodies larger than 256 KB (decompressed) are parsed and validated at
    /// once; others wait up to 5 seconds, then are answered 503 <c>overloaded</c> with <c>Retry-After</c>.
    /// Real batches are a few kilobytes; this bounds what abusive megabyte bodies can hold in memory.
    /// Default: 4.</summary>
    public int MaxLargeBodies { get; set; } = 4;

    /// <summary>How many batches may wait for the writer; beyond that the collector answers 503 with
    /// <c>Retry-After</c>. Default: 256.</summary>
    public int IngestQueueCapacity { get; set; } = 256;

    /// <summary>The most events committed together in one group commit. Default: 20000.</summary>
    public int MaxEventsPerCommit { get; set; } = 20_000;

    /// <summary>PostgreSQL only: how many group commits run at once, each on its own connection
    /// (DuckDB always commits one group at a time). Default: 3.</summary>
    public int PostgresWriters { get; set; } = 3;

    /// <summary>Enables <c>POST /v1/discard</c>, which reads and decompresses a body and throws it away:
    /// the load generator's baseline. Default: <see langword="false"/>.</summary>
    public bool EnableDiscardEndpoint { get; set; }

    /// <summary>Per-client request limits (<c>Candor:RateLimits:*</c>); see <see cref="Security.RateLimitOptions"/>
    /// for each limit and its default.</summary>
    public Security.RateLimitOptions RateLimits { get; set; } = new();

    public string ResolvedDatabasePath =>
        string.IsNullOrWhiteSpace(DatabasePath) ? Path.Combine(DataDirectory, "candor.duckdb") : DatabasePath;

    public bool IsPostgres => string.Equals(Storage, "postgres", StringComparison.OrdinalIgnoreCase);

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

        if (!string.Equals(Storage, "duckdb", StringComparison.OrdinalIgnoreCase) && !string.Equals(Storage, "postgres", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"Candor:Storage must be 'duckdb' or 'postgres', not '{Storage}'.");
        }
        else if (IsPostgres && string.IsNullOrWhiteSpace(ConnectionString))
        {
            errors.Add("Candor:ConnectionString must be set when Candor:Storage is 'postgres'.");
        }

        if (SizeInBytes(DuckDbMemoryLimit) is not > 0)
        {
            errors.Add($"Candor:DuckDbMemoryLimit must be a size such as 128MB or 1GB, not '{DuckDbMemoryLimit}'.");
        }

        if (SizeInBytes(DuckDbCheckpointSize) is null)
        {
            errors.Add($"Candor:DuckDbCheckpointSize must be a size such as 256MB, or 0, not '{DuckDbCheckpointSize}'.");
        }

        foreach (var proxy in TrustedProxies)
        {
            if (!System.Net.IPNetwork.TryParse(proxy, out _) && !System.Net.IPAddress.TryParse(proxy, out _))
            {
                errors.Add($"Candor:TrustedProxies: '{proxy}' is neither an address nor a network.");
            }
        }

        if (GeoIpDatabase is { Length: > 0 } geo && !File.Exists(geo))
        {
            errors.Add($"Candor:GeoIpDatabase: '{geo}' does not exist.");
        }

        if (MaxFutureSkew < TimeSpan.Zero || MaxEventAge <= TimeSpan.Zero)
        {
            errors.Add("Candor:MaxFutureSkew must not be negative and Candor:MaxEventAge must be positive.");
        }

        if (MaxStringLength < 16 || QuarantineEventChars < 256 || IngestQueueCapacity < 1 || MaxEventsPerCommit < 1000)
        {
            errors.Add("Candor:MaxStringLength must be at least 16, QuarantineEventChars at least 256, IngestQueueCapacity at least 1 and MaxEventsPerCommit at least 1000.");
        }

        if (MemoryTrimInterval < TimeSpan.Zero || SizeInBytes(MemoryTrimAbove) is null || MaxLargeBodies < 1)
        {
            errors.Add($"Candor:MemoryTrimInterval must not be negative, Candor:MemoryTrimAbove must be a size such as 96MB (not '{MemoryTrimAbove}') and Candor:MaxLargeBodies at least 1.");
        }

        if (MaxBodyReadTime <= TimeSpan.Zero || MinBodyBytesPerSecond < 0)
        {
            errors.Add("Candor:MaxBodyReadTime must be positive and Candor:MinBodyBytesPerSecond must not be negative.");
        }

        if (PostgresWriters is < 1 or > 32)
        {
            errors.Add("Candor:PostgresWriters must be between 1 and 32.");
        }

        if (AdminToken is { Length: < 16 })
        {
            errors.Add("Candor:AdminToken must be at least 16 characters.");
        }

        if (ViewerToken is { Length: < 16 })
        {
            errors.Add("Candor:ViewerToken must be at least 16 characters.");
        }
        else if (ViewerToken is not null && string.Equals(ViewerToken, AdminToken, StringComparison.Ordinal))
        {
            errors.Add("Candor:ViewerToken must differ from Candor:AdminToken.");
        }

        if (RetentionInterval < TimeSpan.Zero)
        {
            errors.Add("Candor:RetentionInterval must not be negative.");
        }

        foreach (var (name, product) in Products)
        {
            if (product.RetentionDays < 1 || product.QuarantineRetentionDays < 1)
            {
                errors.Add($"Candor:Products:{name}:RetentionDays and QuarantineRetentionDays must be at least 1.");
            }
        }

        errors.AddRange(RateLimits.Validate());

        return errors;
    }
}

/// <summary>One product the collector accepts events for.</summary>
internal sealed class ProductOptions
{
    /// <summary>The write key the product's clients send in <c>X-Candor-Write-Key</c>.</summary>
    public string? WriteKey { get; set; }

    /// <summary>Events whose time is more than this many days ago are deleted. Default: 395 (13 months:
    /// a year compared with the year before). Stated on the product's privacy page.</summary>
    public int RetentionDays { get; set; } = DefaultRetentionDays;

    /// <summary>Quarantined events received more than this many days ago are deleted. Default: 30.</summary>
    public int QuarantineRetentionDays { get; set; } = DefaultQuarantineRetentionDays;

    /// <summary>The environment variable the product's tool reads to turn telemetry off, shown on the
    /// privacy page. Default: the product name in upper case, '-' as '_', then <c>_TELEMETRY</c>
    /// (what the client SDK uses when its tool sets none).</summary>
    public string? TelemetryVariable { get; set; }

    public const int DefaultRetentionDays = 395;

    public const int DefaultQuarantineRetentionDays = 30;
}
