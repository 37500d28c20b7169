namespace Candor.Collector.Storage;

/// <summary>Opens the store and creates its schema before the server starts listening, so the
/// first request never meets an unready store.</summary>
internal sealed class StorageInitializer(IEventStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
