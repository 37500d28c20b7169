using System.Net;
using System.Text;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>Invariant 4: the client address is used to derive country, region and a pseudonym, then forgotten.</summary>
public sealed class CollectorPrivacyTests
{
    // In the MaxMind test database: GB, England.
    private const string ClientAddress = "81.2.69.142";

    private static string GeoIpDatabase => RepositoryPaths.GeoIpTestDatabase;

    private static Dictionary<string, string?> Settings(bool trustLoopbackProxy) => new()
    {
        ["Candor__GeoIpDatabase"] = GeoIpDatabase,
        ["Candor__PseudonymizeIp"] = "true",
        ["Candor__TrustedProxies__0"] = trustLoopbackProxy ? "127.0.0.1" : null,
        // Everything the collector and ASP.NET log, so a leak in any log line is caught.
        ["Logging__LogLevel__Default"] = "Trace",
        ["Logging__LogLevel__Microsoft.AspNetCore"] = "Trace",
    };

    [Fact]
    public async Task TheRawClientAddressIsNowhereInTheDuckDbFilesTheQuarantineOrTheLogs()
    {
        using var data = new TemporaryDirectory();
        string output;
        await using (var collector = await CollectorProcess.StartAsync(data.Path, Settings(trustLoopbackProxy: true)))
        {
            await PostValidAndInvalidAsync(collector);

            var stored = Assert.Single(await collector.ReadEventsAsync());
            Assert.Equal("GB", stored.GetProperty("country").GetString());
            Assert.Equal("ENG", stored.GetProperty("region").GetString());
            Assert.Matches("^[0-9a-f]{32}$", stored.GetProperty("ip_pseudonym").GetString());
            // The ingest journal, which every accepted group passes through, is deleted at shutdown:
            // looked at while the collector runs.
            var journals = Directory.GetFiles(data.Path, "candor.duckdb.journal*", SearchOption.AllDirectories);
            Assert.NotEmpty(journals);
            foreach (var journal in journals)
            {
                using var stream = new FileStream(journal, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                Assert.True(copy.Length > 0, journal);
                AssertAddressAbsent(copy.ToArray(), journal);
            }

            await collector.StopAsync();
            output = collector.Output;
        }

        Assert.DoesNotContain(ClientAddress, output, StringComparison.Ordinal);
        foreach (var file in Directory.EnumerateFiles(data.Path, "*", SearchOption.AllDirectories))
        {
            AssertAddressAbsent(File.ReadAllBytes(file), file);
        }
    }

    [Fact]
    public async Task TheRawClientAddressIsNowhereInThePostgresTablesOrTheLogs()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var connectionString = await postgres.CreateDatabaseAsync();
        using var data = new TemporaryDirectory();
        var settings = Settings(trustLoopbackProxy: true);
        settings["Candor__Storage"] = "postgres";
        settings["Candor__ConnectionString"] = connectionString;
        string output;
        await using (var collector = await CollectorProcess.StartAsync(data.Path, settings))
        {
            await PostValidAndInvalidAsync(collector);
            Assert.Equal("GB", Assert.Single(await collector.ReadEventsAsync()).GetProperty("country").GetString());
            await collector.StopAsync();
            output = collector.Output;
        }

        Assert.DoesNotContain(ClientAddress, output, StringComparison.Ordinal);
        var database = PostgresServer.DatabaseOf(connectionString);
        var everything = await postgres.QueryAsync(database,
            "SELECT (SELECT string_agg(e::text, '|') FROM events e) || (SELECT string_agg(q::text, '|') FROM quarantine q) || (SELECT count(*) FROM event_ids)::text");
        Assert.Contains("GB", everything, StringComparison.Ordinal);
        Assert.Contains("undeclared_property", everything, StringComparison.Ordinal);
        Assert.DoesNotContain(ClientAddress, everything, StringComparison.Ordinal);
    }

    [Fact]
    public async Task XForwardedForFromAPeerThatIsNotATrustedProxyIsIgnored()
    {
        using var data = new TemporaryDirectory();
        await using var collector = await CollectorProcess.StartAsync(data.Path, Settings(trustLoopbackProxy: false));
        using var client = new HttpClient { BaseAddress = collector.BaseAddress };

        using var response = await CollectorHttp.PostAsync(client, CollectorHttp.Batch([Guid.CreateVersion7()]), forwardedFor: ClientAddress);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var stored = Assert.Single(await collector.ReadEventsAsync());
        // The peer is loopback, which is in no GeoIP database: the forwarded address was not used.
        Assert.False(stored.TryGetProperty("country", out _), stored.GetRawText());
    }

    private static async Task PostValidAndInvalidAsync(CollectorProcess collector)
    {
        using var client = new HttpClient { BaseAddress = collector.BaseAddress };
        using var valid = await CollectorHttp.PostAsync(client, CollectorHttp.Batch([Guid.CreateVersion7()]), forwardedFor: ClientAddress);
        Assert.Equal(HttpStatusCode.OK, valid.StatusCode);
        var invalid = CollectorHttp.Batch([Guid.CreateVersion7()]).Replace("\"duration_ms\":7", "\"duration_ms\":7,\"host\":\"build-01\"", StringComparison.Ordinal);
        using var rejected = await CollectorHttp.PostAsync(client, invalid, forwardedFor: ClientAddress);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, rejected.StatusCode);
    }

    private static void AssertAddressAbsent(byte[] bytes, string file)
    {
        byte[][] forms =
        [
            Encoding.ASCII.GetBytes(ClientAddress),
            Encoding.Unicode.GetBytes(ClientAddress),
            IPAddress.Parse(ClientAddress).GetAddressBytes(),
        ];
        foreach (var form in forms)
        {
            Assert.True(bytes.AsSpan().IndexOf(form) < 0, $"{Path.GetFileName(file)} holds the client address ({form.Length} bytes form)");
        }
    }
}
