using Candor.Hosting;

namespace Acme.Server;

/// <summary>How Acme Server configures Candor. A real service would hard-code its collector address and write
/// key; the sample reads them from the environment, like <c>acme</c>, so tests and the README can point it
/// anywhere. Everything else comes from the <c>Candor</c> configuration section (appsettings.json or
/// <c>Candor__*</c> variables).</summary>
public static class AcmeServerTelemetry
{
    public static void Configure(CandorServiceOptions options)
    {
        options.ProductName = AcmeServerEvents.Product;
        options.EnvironmentPrefix = "ACME_SERVER";
        var endpoint = Environment.GetEnvironmentVariable("ACME_SERVER_TELEMETRY_ENDPOINT");
        if (!string.IsNullOrWhiteSpace(endpoint) && Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
        {
            options.Endpoint = uri;
        }

        if (Environment.GetEnvironmentVariable("ACME_SERVER_TELEMETRY_WRITE_KEY") is { Length: > 0 } writeKey)
        {
            options.WriteKey = writeKey;
        }
    }
}
