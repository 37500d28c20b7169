using Candor.Collector.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

namespace Candor.Collector.Tests.Storage.Postgres;

[Collection("postgres")]
public sealed class CopyRowBufferTests(PostgresFixture postgres)
{
    private static readonly (string? Text, Guid? Id, DateTimeOffset Time, bool? Flag, double? Number, string? Json)[] Rows =
    [
        ("run", Guid.Parse("0193a5c2-7b1e-7c3d-9f00-0123456789ab"), new DateTimeOffset(2026, 12, 6, 13, 45, 1, TimeSpan.Zero).AddTicks(1_234_567), true, 12.5, """{"command":"run","duration_ms":12}"""),
        (null, null, new DateTimeOffset(1999, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_999), null, null, null),
        ("", Guid.Empty, new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.FromHours(5)), false, -0.001, "{}"),
        ("Grüße, 東京 🚀", Guid.NewGuid(), DateTimeOffset.UnixEpoch, false, double.MaxValue, """{"name":"Zoë ✓","nested":{"a":[1,2.5,null,true]}}"""),
        (new string('x', 100_000), Guid.NewGuid(), new DateTimeOffset(2100, 6, 1, 12, 0, 0, TimeSpan.Zero), true, double.NegativeInfinity, """{"s":"ünïcödé"}"""),
    ];

    [Fact]
    public async Task RowsItEncodesAreStoredExactlyAsNpgsqlsOwnImporterStoresThem()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var table in new[] { "by_importer", "by_buffer" })
        {
            await using var create = new NpgsqlCommand($"CREATE TABLE {table} (n int, t text, u uuid, ts timestamptz, b boolean, d double precision, j jsonb)", connection);
            await create.ExecuteNonQueryAsync();
        }

        await using (var importer = await connection.BeginBinaryImportAsync("COPY by_importer FROM STDIN (FORMAT BINARY)"))
        {
            for (var n = 0; n < Rows.Length; n++)
            {
                var row = Rows[n];
                await importer.StartRowAsync();
                await importer.WriteAsync(n, NpgsqlDbType.Integer);
                await WriteAsync(importer, row.Text, NpgsqlDbType.Text);
                await WriteAsync(importer, row.Id, NpgsqlDbType.Uuid);
                await importer.WriteAsync(row.Time.UtcDateTime, NpgsqlDbType.TimestampTz);
                await WriteAsync(importer, row.Flag, NpgsqlDbType.Boolean);
                await WriteAsync(importer, row.Number, NpgsqlDbType.Double);
                await WriteAsync(importer, row.Json, NpgsqlDbType.Jsonb);
            }

            await importer.CompleteAsync();
        }

        using (var rows = new CopyRowBuffer())
        {
            for (var n = 0; n < Rows.Length; n++)
            {
                var row = Rows[n];
                rows.StartRow(7);
                rows.WriteInteger(n);
                rows.WriteText(row.Text);
                rows.WriteUuid(row.Id);
                rows.WriteTimestamp(row.Time);
                rows.WriteBoolean(row.Flag);
                rows.WriteDouble(row.Number);
                rows.WriteJsonb(row.Json);
            }

            await rows.SendAsync(connection, "COPY by_buffer FROM STDIN (FORMAT BINARY)", CancellationToken.None);
        }

        // Row by row, every column the same (IS NOT DISTINCT FROM: NULLs included).
        await using var compare = new NpgsqlCommand("""
            SELECT count(*) FILTER (WHERE (a.t, a.u, a.ts, a.b, a.d, a.j) IS NOT DISTINCT FROM (b.t, b.u, b.ts, b.b, b.d, b.j)), count(*)
            FROM by_importer a JOIN by_buffer b USING (n)
            """, connection);
        await using var reader = await compare.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((Rows.Length, Rows.Length), (reader.GetInt64(0), reader.GetInt64(1)));
        await reader.CloseAsync();

        await using var read = new NpgsqlCommand("SELECT u, ts, t FROM by_buffer WHERE n = 0", connection);
        await using var first = await read.ExecuteReaderAsync();
        Assert.True(await first.ReadAsync());
        Assert.Equal(Rows[0].Id, first.GetGuid(0));
        // Microseconds survive; the tenth of a microsecond does not (as with Npgsql).
        Assert.Equal(Rows[0].Time.UtcDateTime.AddTicks(-7), first.GetDateTime(1));
        Assert.Equal("run", first.GetString(2));
    }

    [Fact]
    public async Task AValueTheServerRefusesFailsTheCopyAndLeavesNoRow()
    {
        var connectionString = await postgres.Server.CreateDatabaseAsync();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var create = new NpgsqlCommand("CREATE TABLE t (j jsonb)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        using (var rows = new CopyRowBuffer())
        {
            rows.StartRow(1);
            rows.WriteJsonb("{}");
            rows.StartRow(1);
            rows.WriteJsonb("{not json");
            await Assert.ThrowsAsync<PostgresException>(() => rows.SendAsync(connection, "COPY t FROM STDIN (FORMAT BINARY)", CancellationToken.None));
        }

        await using var count = new NpgsqlCommand("SELECT count(*) FROM t", connection);
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }

    private static Task WriteAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type)
        where T : struct =>
        value is { } v ? importer.WriteAsync(v, type) : importer.WriteNullAsync();

    private static Task WriteAsync(NpgsqlBinaryImporter importer, string? value, NpgsqlDbType type) =>
        value is null ? importer.WriteNullAsync() : importer.WriteAsync(value, type);
}
