using DuckDB.NET.Data;

namespace Candor.Collector.Tests.Storage.DuckDb;

/// <summary>Reads a DuckDB file directly, as the store's tests check what it wrote.</summary>
internal static class DuckDbRows
{
    public static List<T> Read<T>(string databasePath, string sql, Func<DuckDBDataReader, T> read)
    {
        using var connection = new DuckDBConnection($"Data Source={databasePath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<T>();
        while (reader.Read())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
