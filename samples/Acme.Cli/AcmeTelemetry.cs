using Candor;

namespace Acme.Cli;

/// <summary>How Acme configures Candor. A real tool would hard-code its collector address and write
/// key; the sample reads them from the environment so tests and the README can point it anywhere.</summary>
internal static class AcmeTelemetry
{
    public static CandorOptions Options()
    {
        var endpoint = Environment.GetEnvironmentVariable("ACME_TELEMETRY_ENDPOINT");
        var options = new CandorOptions
        {
            ProductName = "acme",
            Catalog = AcmeEvents.Catalog,
            Endpoint = Uri.TryCreate(string.IsNullOrWhiteSpace(endpoint) ? "http://localhost:5080" : endpoint, UriKind.Absolute, out var uri) ? uri : null,
            WriteKey = Environment.GetEnvironmentVariable("ACME_TELEMETRY_WRITE_KEY"),
            FlushBudget = TimeSpan.FromMilliseconds(int.TryParse(Environment.GetEnvironmentVariable("ACME_FLUSH_MS"), out var ms) ? ms : 200),
            // Acme's users get a notice once, then anonymous usage data, unless they opt out.
            // The sample lets tests choose another policy; a real tool picks one.
            DefaultPolicy = Environment.GetEnvironmentVariable("ACME_TELEMETRY_POLICY") switch
            {
                "prompt" => ConsentPolicy.Prompt,
                "opt-in" => ConsentPolicy.OptIn,
                _ => ConsentPolicy.OptOut,
            },
            NoticeVersion = 1,
        };
        // Variables Acme honoured before it used Candor.
        options.LegacyVariables.Add(new TelemetryVariableAlias("ACME_DISABLE_TELEMETRY", TelemetryAliasPolarity.OffWhenSet));
        options.LegacyVariables.Add(new TelemetryVariableAlias("ACME_ENABLE_TELEMETRY", TelemetryAliasPolarity.OnWhenTrue));
        return options;
    }
}
