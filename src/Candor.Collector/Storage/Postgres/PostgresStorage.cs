using Candor.Collector.Analytics;

namespace Candor.Collector.Storage.Postgres;

/// <summary>The PostgreSQL engine as the rest of the collector sees it: one registration, and the offline open.</summary>
internal static class PostgresStorage
{
    /// <summary>Registers the PostgreSQL event store and its analytics store. It commits before it
    /// acknowledges, so its read barrier completes at once.</summary>
    public static IServiceCollection AddPostgresStorage(this IServiceCollection services, CollectorOptions options)
    {
        services.AddEventStore(
            s => new PostgresEventStore(options.ConnectionString!, options.PostgresWriters) { Forgotten = s.GetRequiredService<ForgottenInstalls>() },
            _ => ImmediateReadBarrier.Instance);
        services.AddSingleton<IAnalyticsStore>(_ => new PostgresAnalyticsStore(options.ConnectionString!));
        return services;
    }

    /// <summary>The analytics of a PostgreSQL database outside a running collector: PostgreSQL serves
    /// many readers, so this runs next to live collectors, and needs nothing done first.</summary>
    public static IAnalyticsStore OpenAnalyticsOffline(string connectionString) => new PostgresAnalyticsStore(connectionString);
}
