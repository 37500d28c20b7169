using System.Net;
using Candor.Collector.Admin;
using Candor.Collector.Enrichment;
using Candor.Collector.Analytics;
using Candor.Collector.Dashboard;
using Candor.Collector.DataRights;
using Candor.Collector.Ingestion;
using Candor.Collector.Operations;
using Candor.Collector.Schemas;
using Candor.Collector.Security;
using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;
using Candor.Collector.Storage.Postgres;
using Microsoft.AspNetCore.HttpOverrides;
using Prometheus;

namespace Candor.Collector;

/// <summary>The composition root: configuration, storage chosen once, endpoints.</summary>
internal static class CollectorApp
{
    /// <param name="args">The command line.</param>
    /// <param name="configureServices">Run after every registration (tests put fakes in place).</param>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        // The slim builder leaves out Kestrel's HTTPS configuration: with it, an https address in --urls
        // and a certificate in Kestrel:Certificates:Default serve TLS directly (bench/hyperfine-acme.sh).
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });

        var options = builder.Configuration.GetSection(CollectorOptions.Section).Get<CollectorOptions>() ?? new CollectorOptions();
        var analytics = builder.Configuration.GetSection(AnalyticsOptions.Section).Get<AnalyticsOptions>() ?? new AnalyticsOptions();
        var errors = options.Validate();
        errors.AddRange(analytics.Validate());
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid collector configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
        }

        var credentials = Credentials.Load(options);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(credentials);
        builder.Services.AddSingleton(TimeProvider.System);
        // One engine, chosen once: the rest of the collector sees its interfaces only.
        if (options.IsPostgres)
        {
            builder.Services.AddPostgresStorage(options);
        }
        else
        {
            builder.Services.AddDuckDbStorage(options);
        }

        builder.Services.AddSingleton<SchemaRegistry>();
        builder.Services.AddSingleton<EventValidator>();
        builder.Services.AddSingleton<GeoLocator>();
        builder.Services.AddSingleton<IpPseudonymizer>();
        builder.Services.AddSingleton<ClientAddressEnricher>();
        builder.Services.AddSingleton<GroupCommitWriter>();
        builder.Services.AddSingleton<LargeBodyGate>();
        builder.Services.AddSingleton<IngestPipeline>();
        builder.Services.AddSingleton<PublicIngestDoor>();
        builder.Services.AddHostedService<Operations.MemoryTrimmer>();
        // Start order: storage, schemas, writer. Stop order is the reverse, and the writer drains
        // everything it accepted before the store is disposed.
        builder.Services.AddHostedService<StorageInitializer>();
        builder.Services.AddHostedService<SchemaRegistryLoader>();
        builder.Services.AddHostedService(s => s.GetRequiredService<GroupCommitWriter>());
        builder.Services.AddDataRights(options);
        builder.Services.AddSingleton(analytics);

        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, CollectorJsonContext.Default));
        builder.Services.Configure<ForwardedHeadersOptions>(forwarded => ConfigureForwardedHeaders(forwarded, options));
        builder.Services.AddCollectorRateLimits(options.RateLimits);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        // Outermost, so that whatever fails further in is answered with an error body, with the
        // security headers too.
        app.UseErrorAnswers();
        app.UseSecurityHeaders();
        if (options.TrustedProxies.Count > 0)
        {
            // Only with proxies configured: with both known lists empty the middleware trusts every peer.
            app.UseForwardedHeaders();
        }

        // Routing after the forwarded headers, so the rate limits see the client's address.
        app.UseRouting();
        app.UseRateLimiter();

        // The ingest endpoints (events, discard) under the ingest rate limit.
        IngestEndpoint.Map(app.MapGroup("").RequireIngestRateLimit(options.RateLimits), options);
        DataRightsEndpoints.Map(app, options.RateLimits);
        AdminEndpoints.Map(app);
        AnalyticsEndpoints.Map(app);
        AdminEndpoints.MapQuarantineSummary(app);

        DashboardEndpoints.Map(app);
        Privacy.PrivacyEndpoints.Map(app);
        app.MapGet("/healthz", () => Results.Json(new HealthResponse("ok"), CollectorJsonContext.Default.HealthResponse));
        app.MapGet("/readyz", async (IEventQuery store, CancellationToken cancellationToken) =>
            await store.IsReachableAsync(cancellationToken)
                ? Results.Json(new HealthResponse("ready"), CollectorJsonContext.Default.HealthResponse)
                : Results.Json(new HealthResponse("storage unreachable"), CollectorJsonContext.Default.HealthResponse, statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapMetrics("/metrics");

        app.Lifetime.ApplicationStarted.Register(() => Announce(app, credentials, options));
        return app;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        await using var app = Build(args);
        await app.RunAsync();
        return 0;
    }

    /// <summary>Forwarding headers are believed only from the configured proxies: ASP.NET's default
    /// trusts loopback, which would let any local process claim any address, and with no proxies
    /// listed at all it trusts everyone, so the middleware is not used then.</summary>
    internal static void ConfigureForwardedHeaders(ForwardedHeadersOptions forwarded, CollectorOptions options)
    {
        forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
#pragma warning disable ASPDEPR005 // The obsolete list still holds the loopback default and is still consulted.
        forwarded.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
        forwarded.ForwardLimit = null;
        foreach (var proxy in options.TrustedProxies)
        {
            if (IPAddress.TryParse(proxy, out var address))
            {
                forwarded.KnownProxies.Add(address);
            }
            else
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(proxy));
            }
        }
    }

    private static void Announce(WebApplication app, Credentials credentials, CollectorOptions options)
    {
        var logger = app.Logger;
        logger.LogInformation("Candor collector listening on {Addresses}, storing events in {Storage}",
            string.Join(", ", app.Urls), options.IsPostgres ? "PostgreSQL" : Path.GetFullPath(options.ResolvedDatabasePath));
        if (credentials.CreatedDevelopmentCredentials is { } created)
        {
            // Shown once, on the run that created them; afterwards they are read from the file.
            Console.WriteLine($"""

                ┌ Development credentials created (kept in {credentials.DevelopmentCredentialsPath})
                │ write key   : {created.WriteKey}   (accepts any product)
                │ admin token : {created.AdminToken}
                └ Configure Candor:Products:<name>:WriteKey and Candor:AdminToken for production.

                """);
        }
        else if (credentials.DevelopmentCredentialsPath is { } path)
        {
            logger.LogInformation("Using development credentials from {Path}", path);
        }
    }
}
