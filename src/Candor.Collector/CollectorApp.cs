using Candor.Collector.Admin;
using Candor.Collector.Analytics;
using Candor.Collector.Dashboard;
using Candor.Collector.Ingestion;
using Candor.Collector.Security;
using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;

namespace Candor.Collector;

/// <summary>The composition root: configuration, storage chosen once, endpoints.</summary>
internal static class CollectorApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
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
        builder.Services.AddSingleton<IEventStore>(_ => new DuckDbEventStore(options.ResolvedDatabasePath));
        builder.Services.AddHostedService<StorageInitializer>();
        builder.Services.AddSingleton(analytics);
        builder.Services.AddSingleton<IAnalyticsStore>(_ => new DuckDbAnalyticsStore(options.ResolvedDatabasePath));
        builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, CollectorJsonContext.Default));

        var app = builder.Build();
        IngestEndpoint.Map(app);
        AdminEndpoints.Map(app);
        AnalyticsEndpoints.Map(app);
        DashboardEndpoints.Map(app);
        app.MapGet("/healthz", () => Results.Json(new HealthResponse("ok"), CollectorJsonContext.Default.HealthResponse));
        app.MapGet("/readyz", async (IEventStore store, CancellationToken cancellationToken) =>
            await store.IsReachableAsync(cancellationToken)
                ? Results.Json(new HealthResponse("ready"), CollectorJsonContext.Default.HealthResponse)
                : Results.Json(new HealthResponse("storage unreachable"), CollectorJsonContext.Default.HealthResponse, statusCode: StatusCodes.Status503ServiceUnavailable));

        app.Lifetime.ApplicationStarted.Register(() => Announce(app, credentials, options));
        return app;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        await using var app = Build(args);
        await app.RunAsync();
        return 0;
    }

    private static void Announce(WebApplication app, Credentials credentials, CollectorOptions options)
    {
        var logger = app.Logger;
        logger.LogInformation("Candor collector listening on {Addresses}, storing events in {Database}",
            string.Join(", ", app.Urls), Path.GetFullPath(options.ResolvedDatabasePath));
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
