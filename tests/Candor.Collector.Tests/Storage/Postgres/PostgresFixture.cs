using Candor.TestSupport;

namespace Candor.Collector.Tests.Storage.Postgres;

/// <summary>One throwaway PostgreSQL server for every test in the <c>postgres</c> collection; each test makes its own database.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    internal PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition("postgres")]
public sealed class PostgresGroup : ICollectionFixture<PostgresFixture>;
