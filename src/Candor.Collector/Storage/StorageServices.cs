namespace Candor.Collector.Storage;

/// <summary>What every engine's registration (<c>AddDuckDbStorage</c>, <c>AddPostgresStorage</c>) shares.</summary>
internal static class StorageServices
{
    /// <summary>Registers an engine's event store as the one <see cref="IEventStore"/>, and through it
    /// <see cref="IEventWriter"/> and <see cref="IEventQuery"/>, with its <see cref="IReadBarrier"/>.</summary>
    public static IServiceCollection AddEventStore(
        this IServiceCollection services, Func<IServiceProvider, IEventStore> store, Func<IServiceProvider, IReadBarrier> barrier)
    {
        services.AddSingleton<ForgottenInstalls>();
        services.AddSingleton(store);
        services.AddSingleton<IDataRights>(s => s.GetRequiredService<IEventStore>());
        services.AddSingleton<IEventWriter>(s => s.GetRequiredService<IEventStore>());
        services.AddSingleton<IEventQuery>(s => s.GetRequiredService<IEventStore>());
        services.AddSingleton(barrier);
        return services;
    }
}
