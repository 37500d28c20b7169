
namespace Candor.Collector.Storage;

/// <summary>Opens the store and creates its schema before the server starts listening, so the
/// first request never meets an unready store; then loads the tombstones of forgotten installs.</summary>
internal sealed class StorageInitializer(IEventStore store, IDataRights rights, ForgottenInstalls forgotten) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        forgotten.Load(await rights.ReadOrCreateTombstoneKeyAsync(cancellationToken), await rights.ReadTombstonesAsync(cancellationToken));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
