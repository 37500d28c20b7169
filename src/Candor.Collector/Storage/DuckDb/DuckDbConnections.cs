using DuckDB.NET.Data;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>
/// The event store's two connections to its DuckDB file: the writer's, used by one thread at a time
/// (opening, then the applier), and the reader's, shared by admin reads and the ingest dedup lookups
/// behind a gate, so neither waits behind a commit or a checkpoint on the writer's.
/// </summary>
internal sealed class DuckDbConnections(string databasePath) : IAsyncDisposable
{
    private readonly SemaphoreSlim _readGate = new(1, 1);

    public DuckDBConnection Writer { get; } = new($"Data Source={databasePath}");

    /// <summary>Held by whoever uses <see cref="Writer"/> once the applier runs: the applier for each commit
    /// and checkpoint (<see cref="Exclusive"/>), forget and retention for their transactions and their
    /// changes to the install numbers (<see cref="ExclusiveAsync"/>).</summary>
    private readonly SemaphoreSlim _writerGate = new(1, 1);

    private DuckDBConnection Reader { get; } = new($"Data Source={databasePath}");

    public Task OpenWriterAsync(CancellationToken cancellationToken) => Writer.OpenAsync(cancellationToken);

    public Task OpenReaderAsync(CancellationToken cancellationToken) => Reader.OpenAsync(cancellationToken);

    /// <summary>Runs <paramref name="read"/> on the reader's connection, alone.</summary>
    public async Task<T> ReadAsync<T>(Func<DuckDBConnection, Task<T>> read, CancellationToken cancellationToken)
    {
        await _readGate.WaitAsync(cancellationToken);
        try
        {
            return await read(Reader);
        }
        finally
        {
            _readGate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        // A read still running finishes first.
        await _readGate.WaitAsync();
        try
        {
            await Reader.DisposeAsync();
            await Writer.DisposeAsync();
        }
        finally
        {
            _readGate.Release();
            _readGate.Dispose();
            _writerGate.Dispose();
        }
    }

    /// <summary>Runs <paramref name="action"/> on the writer's connection, holding its gate (on the applier's thread).</summary>
    public void Exclusive(Action action)
    {
        _writerGate.Wait();
        try
        {
            action();
        }
        finally
        {
            _writerGate.Release();
        }
    }

    /// <summary>Runs <paramref name="work"/> on the writer's connection between two of the applier's commits.</summary>
    public async Task<T> ExclusiveAsync<T>(Func<DuckDBConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        await _writerGate.WaitAsync(cancellationToken);
        try
        {
            return await work(Writer);
        }
        finally
        {
            _writerGate.Release();
        }
    }

    public static async Task ExecuteAsync(DuckDBConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static void Add(DuckDBCommand command, object? value) =>
        command.Parameters.Add(new DuckDBParameter(value ?? DBNull.Value));
}
