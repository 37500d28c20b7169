using Candor.Collector.Analytics;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>The DuckDB engine as the rest of the collector sees it: one registration, and the offline open.</summary>
internal static class DuckDbStorage
{
    /// <summary>Registers the DuckDB event store (writer, admin reads, read barrier) and its analytics
    /// store, whose queries first wait for what was acknowledged to be stored.</summary>
    public static IServiceCollection AddDuckDbStorage(this IServiceCollection services, CollectorOptions options)
    {
        services.AddSingleton(s => new DuckDbEventStore(
            options.ResolvedDatabasePath, options.DuckDbMemoryLimit, checkpointWalBytes: options.DuckDbCheckpointBytes,
            bounds: new JournalBounds(options.MaxStringLength, options.QuarantineEventChars),
            logger: s.GetRequiredService<ILogger<DuckDbEventStore>>(), time: s.GetRequiredService<TimeProvider>())
        {
            Forgotten = s.GetRequiredService<ForgottenInstalls>(),
        });
        services.AddEventStore(s => s.GetRequiredService<DuckDbEventStore>(), s => s.GetRequiredService<DuckDbEventStore>());
        services.AddSingleton<IAnalyticsStore>(s => new DuckDbAnalyticsStore(options.ResolvedDatabasePath, barrier: s.GetRequiredService<IReadBarrier>()));
        return services;
    }

    /// <summary>
    /// Opens the file as the collector opens it first, then closes it: a journal a crash left is applied
    /// (acknowledged events, so none is missing), and with <paramref name="upgrade"/> a file from an older
    /// collector gets what the analytics read (install numbers). Without <paramref name="upgrade"/> a file
    /// with no journal is left untouched.
    /// </summary>
    public static async Task PrepareOfflineAsync(string databasePath, bool upgrade, CancellationToken cancellationToken)
    {
        if (upgrade || JournalRecovery.HasJournal(databasePath))
        {
            await using var store = new DuckDbEventStore(databasePath);
            await store.InitializeAsync(cancellationToken);
        }
    }

    /// <summary>The analytics of a DuckDB file outside a running collector (which holds the file while it runs).</summary>
    public static async Task<IAnalyticsStore> OpenAnalyticsOfflineAsync(string databasePath, CancellationToken cancellationToken)
    {
        await PrepareOfflineAsync(databasePath, upgrade: true, cancellationToken);
        return new DuckDbAnalyticsStore(databasePath, connections: 1);
    }
}
