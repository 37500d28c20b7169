using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>The collector serving TLS itself (Kestrel with PEM files, as the operator guide shows), and
/// the real <c>acme</c> binary delivering to it only when it trusts the collector's certificate.</summary>
public sealed class AcmeOverHttpsTests
{
    private static readonly string AcmeAssembly = RepositoryPaths.ProgramAssembly("Acme.Cli", "acme.dll");

    [Fact]
    public async Task AcmeDeliversOverHttpsOnlyToACollectorWhoseCertificateItTrusts()
    {
        using var data = new TemporaryDirectory();
        using var tls = new TemporaryDirectory("candor-tls");
        using var certificate = WriteSelfSignedCertificate(tls.Path, out var certificatePath, out var keyPath);
        await using var collector = await CollectorProcess.StartAsync(data.Path,
            new Dictionary<string, string?>
            {
                ["Kestrel__Certificates__Default__Path"] = certificatePath,
                ["Kestrel__Certificates__Default__KeyPath"] = keyPath,
            },
            ["--urls", "https://127.0.0.1:0"]);
        Assert.Equal("https", collector.BaseAddress.Scheme);

        // Without the certificate among its roots the tool refuses the connection: nothing arrives,
        // the command is unaffected.
        using (var untrusting = new TemporaryHome())
        {
            var refused = await RunAcmeAsync(collector, untrusting.Path, trustedCertificate: null);
            Assert.Equal(0, refused.ExitCode);
            Assert.Empty(await ReadEventsAsync(collector, certificate));
        }

        using var trusting = new TemporaryHome();
        var delivered = await RunAcmeAsync(collector, trusting.Path, certificatePath);
        Assert.Equal(0, delivered.ExitCode);
        var stored = Assert.Single(await ReadEventsAsync(collector, certificate));
        Assert.Equal("command", stored.GetProperty("name").GetString());
    }

    /// <summary>A throw-away certificate for 127.0.0.1 and localhost, written as PEM files.</summary>
    private static X509Certificate2 WriteSelfSignedCertificate(string directory, out string certificatePath, out string keyPath)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=candor-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        certificatePath = Path.Combine(directory, "tls.crt");
        keyPath = Path.Combine(directory, "tls.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return certificate;
    }

    /// <summary>Reads the stored events over HTTPS, trusting exactly the test's certificate.</summary>
    private static async Task<JsonElement[]> ReadEventsAsync(CollectorProcess collector, X509Certificate2 certificate)
    {
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
            presented is not null && presented.GetCertHashString() == certificate.GetCertHashString();
        using var client = new HttpClient(handler) { BaseAddress = collector.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CollectorProcess.AdminToken);
        using var document = JsonDocument.Parse(await client.GetStringAsync("/v1/admin/events?product=acme&limit=100"));
        return [.. document.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    private static Task<ProgramResult> RunAcmeAsync(CollectorProcess collector, string home, string? trustedCertificate)
    {
        var environment = TemporaryHome.VariablesFor(home);
        environment["ACME_TELEMETRY_ENDPOINT"] = collector.BaseAddress.ToString();
        environment["ACME_TELEMETRY_WRITE_KEY"] = CollectorProcess.WriteKey;
        environment["ACME_TELEMETRY"] = "anonymous";
        environment["ACME_FLUSH_MS"] = "5000";
        if (trustedCertificate is not null)
        {
            // OpenSSL's roots for this process only: the certificate, and an empty folder instead of the system's.
            environment["SSL_CERT_FILE"] = trustedCertificate;
            environment["SSL_CERT_DIR"] = Path.GetDirectoryName(trustedCertificate);
        }

        return ProgramProcess.RunAsync(AcmeAssembly, ["run", "--pipeline", "nightly"], home, environment);
    }
}
