using Candor.Collector.Storage;
using Candor.Collector.Storage.DuckDb;

namespace Candor.Collector.Tests.Storage;

public sealed class DuckDbEventStoreTests : EventStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "candor-duckdb-" + Guid.NewGuid().ToString("N"));

    private protected override IEventStore Create() => new DuckDbEventStore(Path.Combine(_directory, "candor.duckdb"));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
