using Candor;

namespace Acme.Cli;

/// <summary>How Acme configures Candor. A real tool would hard-code its collector address and write
/// key; the sample reads them from the environment so tests and the README can point it anywhere.</summary>
internal static class AcmeTelemetry
{
    public static CandorClient CreateClient()
    {
        var endpoint = Environment.GetEnvironmentVariable("ACME_TELEMETRY_ENDPOINT");
        return CandorClient.Create(new CandorOptions
        {
            ProductName = "acme",
            Catalog = AcmeEvents.Catalog,
            Endpoint = Uri.TryCreate(string.IsNullOrWhiteSpace(endpoint) ? "http://localhost:5080" : endpoint, UriKind.Absolute, out var uri) ? uri : null,
            WriteKey = Environment.GetEnvironmentVariable("ACME_TELEMETRY_WRITE_KEY"),
            FlushBudget = TimeSpan.FromMilliseconds(int.TryParse(Environment.GetEnvironmentVariable("ACME_FLUSH_MS"), out var ms) ? ms : 200),
        });
    }
}
