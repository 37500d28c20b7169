using Candor.Collector.Analytics;

using Candor.Collector.Storage;

namespace Candor.Collector.DataRights;

/// <summary>Registers what runs beside the forget and access endpoints: retention and, where several
/// instances share a database, the tombstone refresher. After the storage initializer, which opens the
/// store and loads the tombstones.</summary>
internal static class DataRightsServices
{
    public static IServiceCollection AddDataRights(this IServiceCollection services, CollectorOptions options)
    {
        // The products are asked for at each pass, not here: the analytics store opens the database,
        // which the storage initializer creates first.
        services.AddHostedService(s => new RetentionService(
            s.GetRequiredService<IDataRights>(), ct => s.GetRequiredService<IAnalyticsStore>().ProductsAsync(ct), options,
            s.GetRequiredService<TimeProvider>(), s.GetRequiredService<ILogger<RetentionService>>()));
        if (options.IsPostgres)
        {
            services.AddHostedService<TombstoneRefresher>();
        }

        return services;
    }
}
