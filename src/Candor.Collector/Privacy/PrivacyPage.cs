using System.Globalization;
using System.Text.Json;
using Candor.Collector.Schemas;
using Candor.Protocol;
using NJsonSchema;

namespace Candor.Collector.Privacy;

/// <summary>
/// Builds a product's privacy page from what is in force now: the schema registry (every event,
/// version and property, with the descriptions the schema files hold) and the collector's
/// configuration (retention, the tool variable, what enrichment derives). Nothing on the page is
/// typed in a second place, so it cannot drift from what the collector accepts and keeps.
/// </summary>
internal sealed class PrivacyPage(SchemaRegistry registry, CollectorOptions options)
{
    /// <summary>What the Candor client sends with every event (the wire names of <see cref="EventContext"/>),
    /// in wire order. A test checks that every context field is here.</summary>
    internal static readonly IReadOnlyList<PrivacyField> ContextFields =
    [
        new("product", "The tool's name."),
        new("product_version", "The tool's version running now."),
        new("initial_version", "The first version of the tool this install ran (anonymous and identified levels only)."),
        new("sdk_version", "The version of the Candor library in the tool."),
        new("runtime_version", "The .NET runtime version."),
        new("os_family", "linux, windows, macos, freebsd or other."),
        new("os_version", "The operating system's version."),
        new("kernel_release", "The kernel release, where the operating system has one apart from its version."),
        new("architecture", "The processor architecture, e.g. x64 or arm64."),
        new("ci", "Whether the tool runs under continuous integration."),
        new("ci_name", "Which CI system, e.g. github-actions."),
        new("session_id", "A random id made for each run of the tool."),
        new("install_id", "A random id made on this machine when telemetry is first allowed (anonymous and identified levels only); deleted by telemetry disable and forget."),
        new("project_id", "A hash of the project's id and the tool's name, not the project's path or name."),
        new("user_id", "The id you chose to give, at the identified level only."),
        new("install_id_per_process", "Sent (true) only when no state directory was writable, so the install id lives for one process."),
        new("cloud", "The cloud provider, read from environment variables and marker files only, e.g. aws."),
        new("cloud_platform", "The cloud service running the tool, e.g. lambda."),
        new("cloud_region", "The cloud region, e.g. eu-west-1."),
        new("container", "The container runtime, e.g. docker or kubernetes."),
    ];

    /// <summary>The page of a product, or <see langword="null"/> when the collector knows nothing of it
    /// (not configured, no schema registered). The name must already satisfy the product-name rule.</summary>
    public PrivacyDocument? Build(string product)
    {
        var schemas = registry.ForProduct(product);
        options.Products.TryGetValue(product, out var configured);
        if (schemas.Count == 0 && configured is null)
        {
            return null;
        }

        var events = schemas
            .GroupBy(s => s.Name, StringComparer.Ordinal)
            .Select(g => new PrivacyEvent(g.Key, g.Last().Document.Description, [.. g.Select(Describe)]))
            .ToList();
        var tool = product;
        var variable = configured?.TelemetryVariable is { Length: > 0 } set ? set : DefaultTelemetryVariable(product);
        return new PrivacyDocument(
            product,
            events,
            ContextFields,
            Consent(tool, variable),
            Derived(),
            NeverStored(),
            new PrivacyRetention(
                configured?.RetentionDays ?? ProductOptions.DefaultRetentionDays,
                configured?.QuarantineRetentionDays ?? ProductOptions.DefaultQuarantineRetentionDays,
                options.RetentionInterval.TotalMinutes),
            new PrivacyRights(
                new PrivacyRight($"{tool} telemetry forget", "POST", ProtocolConstants.ForgetPath,
                    "Deletes, on this machine, the install id, the user id, unsent events and the local log, and asks this collector " +
                    "to delete every event and quarantined event it holds for the install. The collector then keeps only a keyed hash " +
                    "of the install id, so that events of the install still on their way are refused, not stored. The request carries " +
                    "the tool's write key and the install id; knowing the random install id is what allows it."),
                new PrivacyRight($"{tool} telemetry show --server", "POST", ProtocolConstants.AccessPath,
                    "Shows, as JSON, every event and quarantined event this collector holds for the install, with what the collector " +
                    "derived for each. The request carries the tool's write key and the install id.")));
    }

    /// <summary>The variable the Candor client reads when the tool sets no prefix of its own:
    /// the product name in upper case, '-' as '_', then <c>_TELEMETRY</c>.</summary>
    public static string DefaultTelemetryVariable(string product) =>
        product.ToUpperInvariant().Replace('-', '_') + "_TELEMETRY";

    private static PrivacyEventVersion Describe(EventSchema schema)
    {
        var document = schema.Document;
        var required = new HashSet<string>(document.RequiredProperties, StringComparer.Ordinal);
        var properties = document.Properties
            .Select(p => Describe(p.Key, p.Value, required.Contains(p.Key) || p.Value.IsRequired))
            .ToList();
        return new PrivacyEventVersion(schema.VersionText, document.Description, document.AllowAdditionalProperties, properties);
    }

    private static PrivacyProperty Describe(string name, JsonSchemaProperty property, bool required)
    {
        // Draft 4 marks a bound exclusive with a flag on minimum/maximum; draft 6 and later give the
        // exclusive bound its own keyword. Either way it is shown as the exclusive bound it is.
        var (minimum, exclusiveMinimum) = property.IsExclusiveMinimum ? (null, property.Minimum) : (property.Minimum, property.ExclusiveMinimum);
        var (maximum, exclusiveMaximum) = property.IsExclusiveMaximum ? (null, property.Maximum) : (property.Maximum, property.ExclusiveMaximum);
        return new PrivacyProperty(name, TypeNames(property.Type), property.Description, required)
        {
            Minimum = minimum,
            Maximum = maximum,
            ExclusiveMinimum = exclusiveMinimum,
            ExclusiveMaximum = exclusiveMaximum,
            MultipleOf = property.MultipleOf,
            MinLength = property.MinLength,
            MaxLength = property.MaxLength,
            Enum = property.Enumeration.Count > 0 ? [.. property.Enumeration.Select(JsonValueOf)] : null,
            Pattern = string.IsNullOrEmpty(property.Pattern) ? null : property.Pattern,
            Format = string.IsNullOrEmpty(property.Format) ? null : property.Format,
        };
    }

    private static readonly (JsonObjectType Type, string Name)[] TypeOrder =
    [
        (JsonObjectType.String, "string"), (JsonObjectType.Integer, "integer"), (JsonObjectType.Number, "number"),
        (JsonObjectType.Boolean, "boolean"), (JsonObjectType.Null, "null"), (JsonObjectType.Array, "array"), (JsonObjectType.Object, "object"),
    ];

    private static string[] TypeNames(JsonObjectType type) => [.. TypeOrder.Where(t => type.HasFlag(t.Type)).Select(t => t.Name)];

    /// <summary>An enum value as NJsonSchema read it (null, string, boolean or a number), as JSON.</summary>
    private static JsonElement JsonValueOf(object? value)
    {
        var literal = value switch
        {
            null => "null",
            bool b => b ? "true" : "false",
            string s => JsonSerializer.Serialize(s, PrivacyJsonContext.Default.String),
            IConvertible number when IsNumber(number.GetTypeCode()) =>
                number.ToDecimal(CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture),
            _ => JsonSerializer.Serialize(value.ToString() ?? "", PrivacyJsonContext.Default.String),
        };
        using var parsed = JsonDocument.Parse(literal);
        return parsed.RootElement.Clone();
    }

    private static bool IsNumber(TypeCode code) => code is >= TypeCode.SByte and <= TypeCode.Decimal;

    private static PrivacyConsent Consent(string tool, string variable) => new(
        new PrivacyVariable("DO_NOT_TRACK",
        [
            new("1", "Telemetry off for every tool that honours it, whatever else is set (any value but 0 or false counts)."),
        ]),
        new PrivacyVariable(variable,
        [
            new("off", "Nothing is recorded or sent, and no install id is kept."),
            new("local", "Events are written to the local log on this machine only, never sent."),
            new("anonymous", "Events are sent with the random install id and no personal identifier."),
            new("identified", "Events are sent with the install id and the id you chose to give (telemetry enable --user-id)."),
            new("0 or false", "The same as off."),
            new("1 or true", "The same as anonymous."),
        ]),
        [
            new($"{tool} telemetry status", "Shows the level in effect, every setting that could decide it and which one did, and the install id."),
            new($"{tool} telemetry enable", "Turns telemetry on (anonymous, or --level local|anonymous|identified) and saves the choice."),
            new($"{tool} telemetry disable", "Turns telemetry off and deletes the install id and every unsent event. Sends nothing."),
            new($"{tool} telemetry forget", "Deletes the install id, the user id, unsent events and the local log, and asks this collector to delete what it holds for the install (below)."),
            new($"{tool} telemetry show", "Prints the local log: every event recorded on this machine."),
            new($"{tool} telemetry show --schema", "Prints every event the tool may send, with its properties, from the tool's own event catalog."),
            new($"{tool} telemetry show --server", "Prints what this collector holds for the install (below)."),
        ]);

    private List<PrivacyField> Derived()
    {
        var derived = new List<PrivacyField>
        {
            new("received_at", "When the collector received the event. The event's time is also corrected by the difference between the sending machine's clock and the collector's."),
        };
        if (!string.IsNullOrWhiteSpace(options.GeoIpDatabase))
        {
            derived.Add(new("country", "The country (ISO code) the connecting IP address is registered in, looked up in a local MaxMind GeoIP database."));
            derived.Add(new("region", "The region within the country (ISO code), where that database has one."));
        }

        if (options.PseudonymizeIp)
        {
            derived.Add(new("ip_pseudonym", "A keyed hash of the connecting IP address. The key is random, made in memory each day (UTC) and never " +
                "written anywhere, so the pseudonym links events of one day, not of two days, and cannot be turned back into the address."));
        }

        return derived;
    }

    private List<string> NeverStored()
    {
        var uses = string.IsNullOrWhiteSpace(options.GeoIpDatabase) && !options.PseudonymizeIp
            ? "The collector derives nothing from it"
            : "The collector uses it only to derive what is listed above";
        return
        [
            $"Your IP address. {uses}; it is not stored with events or quarantined events and not logged. It is held in memory only while a rate limit counts requests from it.",
            "The request's headers (such as User-Agent or Accept-Language) and the tool's write key: checked, never stored.",
            "Host names and user names: the Candor client does not send them; the fields above are everything it sends besides each event's properties.",
            "Properties an event's schema does not declare, unless the schema above says it accepts others: an event carrying one is rejected, not stored with the events. " +
                "Rejected events are kept in the quarantine, cut to at most " + options.QuarantineEventChars.ToString(CultureInfo.InvariantCulture) +
                " characters, so the operator can see what went wrong, and deleted after the quarantine retention below.",
        ];
    }
}
