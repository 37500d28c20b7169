namespace Candor.Hosting;

/// <summary>
/// How a service configures Candor, from a configuration section (e.g. <c>Candor</c> in
/// <c>appsettings.json</c>) or a delegate. Validated when the host starts.
/// </summary>
public sealed class CandorServiceOptions
{
    /// <summary>The product (service) name, e.g. <c>acme-server</c>. Required; lower-case letters, digits,
    /// <c>-</c> and <c>_</c>.</summary>
    public string ProductName { get; set; } = "";

    /// <summary>The product version. Default: the informational version of the entry assembly.</summary>
    public string? ProductVersion { get; set; }

    /// <summary>The collector's base address. Default: none (nothing is sent).</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The product's write key. Default: none.</summary>
    public string? WriteKey { get; set; }

    /// <summary>The prefix of the service's environment variables, e.g. <c>ACME_SERVER</c> for
    /// <c>ACME_SERVER_TELEMETRY</c>. Default: the product name upper-cased, with <c>-</c> as <c>_</c>.</summary>
    public string? EnvironmentPrefix { get; set; }

    /// <summary>The level the operator chose in configuration: <c>off</c>, <c>local</c>, <c>anonymous</c>
    /// or <c>identified</c> (also <c>on</c>/<c>true</c> for anonymous, <c>false</c> for off). A reload that
    /// lowers it stops sending at once and deletes what is queued and spooled. <c>DO_NOT_TRACK</c> and
    /// the service's telemetry variable, read at startup, are stronger. Default: none (the default policy decides).</summary>
    public string? Telemetry { get; set; }

    /// <summary>What happens when neither a variable nor <see cref="Telemetry"/> decides:
    /// <see cref="ConsentPolicy.OptIn"/> (off) or <see cref="ConsentPolicy.OptOut"/> (anonymous, with the
    /// notice in the log). <see cref="ConsentPolicy.Prompt"/> is not allowed: a service has no one to ask.
    /// Default: <see cref="ConsentPolicy.OptIn"/>.</summary>
    public ConsentPolicy DefaultPolicy { get; set; } = ConsentPolicy.OptIn;

    /// <summary>Where the install id, the spool and the transparency log live. When it is not writable
    /// (a read-only container), the instance uses a per-process install id, keeps no files, and says
    /// so in its context. Default: the OS state directory of the service's user.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>How often a <c>heartbeat</c> is sent, jittered by up to a tenth. Default: 15 minutes.
    /// Allowed: 1 second to 24 hours.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long request usage is aggregated before it is recorded as one event per route.
    /// Default: 1 minute. Allowed: 1 second to 1 hour.</summary>
    public TimeSpan UsageInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Whether <c>install</c>, <c>startup</c>, <c>heartbeat</c> and <c>shutdown</c> are recorded. Default: true.</summary>
    public bool Lifecycle { get; set; } = true;

    /// <summary>Whether request usage (routes, client kinds, languages) is recorded. Default: true.</summary>
    public bool HttpUsage { get; set; } = true;

    /// <summary>Whether errors (failed requests, unhandled exceptions) are recorded. Default: true.</summary>
    public bool Errors { get; set; } = true;

    /// <summary>The notice written to the log once at startup when telemetry is on: what is collected and
    /// how to turn it off. Default: a notice naming the product and its variable.</summary>
    public string? NoticeText { get; set; }

    /// <summary>Changes the client's own options after they are built from these (tests shorten the batch
    /// interval and the retries).</summary>
    internal Action<CandorOptions>? ConfigureClient { get; set; }

    internal string ResolvedEnvironmentPrefix =>
        string.IsNullOrWhiteSpace(EnvironmentPrefix)
            ? ProductName.ToUpperInvariant().Replace('-', '_')
            : EnvironmentPrefix;

    /// <summary>The service's telemetry variable, e.g. <c>ACME_SERVER_TELEMETRY</c>.</summary>
    internal string TelemetryVariable => ResolvedEnvironmentPrefix + "_TELEMETRY";

    /// <summary>The parts switched on, one bit per <see cref="TelemetryPart"/>.</summary>
    internal int PartMask =>
        (Lifecycle ? 1 << (int)TelemetryPart.Lifecycle : 0) |
        (HttpUsage ? 1 << (int)TelemetryPart.HttpUsage : 0) |
        (Errors ? 1 << (int)TelemetryPart.Errors : 0);
}
