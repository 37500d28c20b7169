namespace Candor.Collector.Storage;

/// <summary>
/// Reads see what was acknowledged: a store that acknowledges a group before it is queryable (DuckDB
/// answers once the group is in its journal, and applies it behind the answers) makes each read wait
/// here first. The analytics store of such an engine starts every query with it.
/// </summary>
internal interface IReadBarrier
{
    /// <summary>Completes once everything acknowledged before the call is visible to reads.</summary>
    Task WaitForStoredAsync(CancellationToken cancellationToken);
}

/// <summary>The barrier of a store that commits before it acknowledges (PostgreSQL): completes at once.</summary>
internal sealed class ImmediateReadBarrier : IReadBarrier
{
    public static ImmediateReadBarrier Instance { get; } = new();

    private ImmediateReadBarrier()
    {
    }

    public Task WaitForStoredAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
