using Candor.Catalog;
using Candor.Collector.Enrichment;
using Candor.Collector.Ingestion;
using Candor.Collector.Schemas;
using Candor.Collector.Storage;

namespace Candor.Collector.Demo;

/// <summary>
/// <c>candor serve --demo</c>: fills an empty store with a deterministic, realistic history of a
/// simulated tool, <c>acme</c>, so a newcomer sees a full dashboard at once. A few hundred installs
/// over the past <see cref="History"/> run the real client SDK (consent, catalog, redaction,
/// command masking, batching, wire format); their batches go through the collector's ingest pipeline
/// (validation, enrichment, writer) by way of a private <see cref="DemoReceiver"/>. A store that holds any
/// event is left alone.
/// </summary>
internal static partial class DemoTraffic
{
    public const int Seed = 20261123;
    public const int Installs = 300;
    public static readonly TimeSpan History = TimeSpan.FromDays(80);

    public static void RunWhenStarted(WebApplication app) =>
        app.Lifetime.ApplicationStarted.Register(() => _ = Task.Run(async () =>
        {
            try
            {
                await FillAsync(app.Services, app.Logger, app.Lifetime.ApplicationStopping);
            }
            catch (OperationCanceledException)
            {
            }
#pragma warning disable CA1031 // The demo failing must not take the collector down; say why instead.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogFailed(app.Logger, ex);
            }
        }));

    public static async Task FillAsync(IServiceProvider services, ILogger logger, CancellationToken cancellationToken)
    {
        if (await services.GetRequiredService<IEventQuery>().HasEventsAsync(cancellationToken))
        {
            LogNotEmpty(logger);
            return;
        }

        var time = services.GetRequiredService<TimeProvider>();
        var started = time.GetTimestamp();
        var registry = services.GetRequiredService<SchemaRegistry>();
        await registry.RegisterAsync(DemoCatalog.Product,
            DemoCatalog.Released.Events.Select(d => (d.Name, d.Version, EventCatalog.ToJsonSchema(d, DemoCatalog.Product))));
        await registry.RegisterAsync(DemoServiceRun.Product,
            DemoServiceRun.Catalog.Events.Select(d => (d.Name, d.Version, EventCatalog.ToJsonSchema(d, DemoServiceRun.Product))));

        var now = time.GetUtcNow();
        var population = DemoPopulation.Plan(new Random(Seed), now, Installs, History);
        var geo = services.GetRequiredService<GeoLocator>();
        LogFilling(logger, Installs, DemoCatalog.Product, (int)History.TotalDays,
            geo.IsEnabled ? "located by the configured GeoIP database" : "no GeoIP database configured, so located by the demo's own table");
        var homes = Directory.CreateTempSubdirectory("candor-demo-");
        try
        {
            await using var receiver = new DemoReceiver(
                services.GetRequiredService<IngestPipeline>(), services.GetRequiredService<ClientAddressEnricher>(), geo,
                services.GetRequiredService<CollectorOptions>(), time);
            // Many installs at once: the writer commits their batches in groups, which is what makes it fast.
            await Parallel.ForEachAsync(population, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
                async (install, _) => await new DemoInstallRun(install, receiver, homes.FullName, now, Seed).RunAsync());
            // The second product, a service: a handful of installs, so they run after the tool's.
            await Parallel.ForEachAsync(Enumerable.Range(0, DemoServiceRun.Installs), new ParallelOptions { CancellationToken = cancellationToken },
                async (number, _) => await new DemoServiceRun(number, receiver, homes.FullName, now, Seed).RunAsync());
            LogFilled(logger, receiver.Accepted, receiver.Rejected, population.Count(i => i.OptedOut),
                time.GetElapsedTime(started).TotalSeconds);
        }
        finally
        {
            homes.Delete(recursive: true);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: the store already holds events, so --demo leaves it as it is")]
    private static partial void LogNotEmpty(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: filling the empty store with {Installs} simulated installs of '{Product}' over the past {Days} days ({Geo})")]
    private static partial void LogFilling(ILogger logger, int installs, string product, int days, string geo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: stored {Accepted} events ({Rejected} quarantined; {OptedOut} installs opted out with DO_NOT_TRACK) in {Seconds:0.0} s")]
    private static partial void LogFilled(ILogger logger, long accepted, long rejected, int optedOut, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Demo: filling the store failed")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
