using System.Data.Common;
using Candor.Collector.Analytics;
using DuckDB.NET.Data;

namespace Candor.Collector.Storage.DuckDb;

/// <summary>How <see cref="DuckDbAnalyticsStore"/> runs a query: after the read barrier, on a pooled
/// connection, with the common parameters and the install-count marker turned into SQL.</summary>
internal sealed partial class DuckDbAnalyticsStore
{
    private string CountInstalls(string sql, int highest) =>
        InstallsMarker().Replace(sql, m => highest <= _bitmapInstallLimit
            ? $"coalesce(bit_count(bitstring_agg({m.Groups[1].Value}, 1, {Math.Max(1, highest)})), 0)"
            : $"count(DISTINCT {m.Groups[1].Value})");

    [System.Text.RegularExpressions.GeneratedRegex(@"/\*installs\*/\(([a-z_.]+)\)")]
    private static partial System.Text.RegularExpressions.Regex InstallsMarker();

    private async Task<IReadOnlyList<T>> QueryAsync<T>(
        string sql, AnalyticsQuery? query, Func<DbDataReader, T> read, CancellationToken cancellationToken,
        DuckDBParameter[]? extra = null, bool filters = true)
    {
        if (_barrier is not null)
        {
            await _barrier.WaitForStoredAsync(cancellationToken);
        }

        var connection = await RentAsync(cancellationToken);
        try
        {
            // The install count's form depends on the highest install number: read it in the same
            // transaction (snapshot) as the query, so the query sees no install beyond it.
            using var transaction = InstallsMarker().IsMatch(sql) ? connection.BeginTransaction() : null;
            if (transaction is not null)
            {
                using var max = connection.CreateCommand();
                max.Transaction = transaction;
                max.CommandText = "SELECT coalesce(max(seq), 0) FROM install_numbers";
                sql = CountInstalls(sql, Convert.ToInt32(await max.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture));
            }

            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            if (query is not null)
            {
                command.Parameters.Add(new DuckDBParameter("product", query.Product));
                command.Parameters.Add(new DuckDBParameter("from", query.From.UtcDateTime));
                if (filters)
                {
                    command.Parameters.Add(new DuckDBParameter("to", query.To.UtcDateTime));
                    command.Parameters.Add(new DuckDBParameter("version", (object?)query.Version ?? DBNull.Value));
                    command.Parameters.Add(new DuckDBParameter("os", (object?)query.Os ?? DBNull.Value));
                    command.Parameters.Add(new DuckDBParameter("ci", (object?)query.Ci ?? DBNull.Value));
                    command.Parameters.Add(new DuckDBParameter("country", (object?)query.Country ?? DBNull.Value));
                    command.Parameters.Add(new DuckDBParameter("command", (object?)query.Command ?? DBNull.Value));
                }
            }

            foreach (var parameter in extra ?? [])
            {
                command.Parameters.Add(parameter);
            }

            var list = new List<T>();
            using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    list.Add(read(reader));
                }
            }

            transaction?.Commit();

            return list;
        }
        finally
        {
            Return(connection);
        }
    }

    private async Task<DuckDBConnection> RentAsync(CancellationToken cancellationToken)
    {
        await _pool.WaitAsync(cancellationToken);
        lock (_idle)
        {
            if (_idle.TryPop(out var idle))
            {
                return idle;
            }
        }

        try
        {
            var connection = new DuckDBConnection(_connectionString);
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            _pool.Release();
            throw;
        }
    }

    private void Return(DuckDBConnection connection)
    {
        lock (_idle)
        {
            _idle.Push(connection);
        }

        _pool.Release();
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static double? D(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : Convert.ToDouble(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose()
    {
        lock (_idle)
        {
            while (_idle.TryPop(out var connection))
            {
                connection.Dispose();
            }
        }

        _pool.Dispose();
    }
}
