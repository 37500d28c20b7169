using System.Text.Json;
using Candor.Collector.Analytics;
using Candor.Collector.Storage;
using Candor.Collector.Storage.Postgres;
using Candor.Protocol;
using Npgsql;

namespace Candor.Collector.Tests.Storage.Postgres;

/// <summary>
/// The PostgreSQL rollups (install_months, day_counts) against the events they summarize, on a
/// random history written the way collectors write it: many groups, two store instances at once,
/// some groups sent twice. Every install-level answer from the rollups must equal the answer of
/// the event scan, and the tables kept at ingest must equal the tables a backfill builds.
/// </summary>
[Collection("postgres")]
public sealed class PostgresRollupTests
{
    private static readonly DateTime Start = new(2026, 9, 10, 0, 0, 0, DateTimeKind.Utc);

    private readonly PostgresFixture _postgres;

    public PostgresRollupTests(PostgresFixture postgres) => _postgres = postgres;

    [Fact]
    public async Task RollupsAnswerAsTheEventScanDoesAndEqualABackfill()
    {
        var connectionString = await _postgres.Server.CreateDatabaseAsync();
        var groups = RandomGroups(new Random(7));
        await using (var first = new PostgresEventStore(connectionString))
        await using (var second = new PostgresEventStore(connectionString))
        {
            await first.InitializeAsync(default);
            await second.InitializeAsync(default);
            // Day counts stay pending until folded below, so both states are compared.
            first.MoveInterval = Timeout.InfiniteTimeSpan;
            second.MoveInterval = Timeout.InfiniteTimeSpan;
            // Two instances writing at once; every fifth group is sent again by the other one.
            var a = Task.Run(async () =>
            {
                for (var i = 0; i < groups.Count; i += 2)
                {
                    await first.WriteAsync(groups[i], [], default);
                    if (i % 5 == 0 && i + 1 < groups.Count)
                    {
                        await first.WriteAsync(groups[i + 1], [], default);
                    }
                }
            });
            var b = Task.Run(async () =>
            {
                for (var i = 1; i < groups.Count; i += 2)
                {
                    await second.WriteAsync(groups[i], [], default);
                    if (i % 5 == 0)
                    {
                        await second.WriteAsync(groups[i - 1], [], default);
                    }
                }
            });
            await Task.WhenAll(a, b);

            using var rollups = new PostgresAnalyticsStore(connectionString);
            using var scan = new PostgresAnalyticsStore(connectionString, rollups: false);
            var (compared, nonEmpty) = await CompareAsync(rollups, scan);
            Assert.Equal(5 * 5 * 33, compared);
            Assert.True(nonEmpty > 300, $"only {nonEmpty} of {compared} answers had rows");

            // Folded: the same answers, and nothing left pending.
            Assert.True(await first.MovePendingAsync(default));
            Assert.Equal(0L, await ScalarAsync(connectionString,
                "SELECT (SELECT count(*) FROM day_counts_pending) + (SELECT count(*) FROM event_days_pending) + (SELECT count(*) FROM duration_days_pending)"));
            Assert.True(await ScalarAsync(connectionString, "SELECT count(*) FROM duration_days") > 100);
            Assert.Equal((compared, nonEmpty), await CompareAsync(rollups, scan));
        }

        // What ingest kept equals what a backfill from the events builds.
        var kept = await SnapshotAsync(connectionString);
        Assert.Contains("install_months", kept, StringComparison.Ordinal);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand(
                "DROP TABLE " + string.Join(", ", PostgresRollups.Tables.Select(t => t.Table)), connection);
            await drop.ExecuteNonQueryAsync();
        }

        await using (var reopened = new PostgresEventStore(connectionString))
        {
            await reopened.InitializeAsync(default);
        }

        Assert.Equal(kept, await SnapshotAsync(connectionString));
    }

    /// <summary>Asks both stores every install-level question over ranges and filters that cut
    /// months, weeks and the history's ends; returns how many answers were compared, and how many
    /// of them were not empty.</summary>
    internal static async Task<(int Compared, int NonEmpty)> CompareAsync(IAnalyticsStore rollups, IAnalyticsStore scan)
    {
        (DateTime From, DateTime To)[] ranges =
        [
            (new(2026, 10, 1), new(2026, 11, 1)),
            (new(2026, 9, 17), new(2026, 10, 22)),
            (new(2026, 10, 30), new(2026, 10, 31)),
            (new(2026, 9, 1), new(2026, 11, 30)),
            (new(2026, 11, 3), new(2026, 11, 20)),
        ];
        AnalyticsQuery[] filters =
        [
            new("acme", default, default),
            new("acme", default, default, Os: "windows"),
            new("acme", default, default, Version: "2.0.0", Ci: false),
            new("acme", default, default, Country: "DE"),
            new("acme", default, default, Command: "build"),
        ];
        Dimension[] dimensions =
        [
            Dimension.Version, Dimension.InitialVersion, Dimension.OsFamily, Dimension.OsVersion, Dimension.Runtime,
            Dimension.Architecture, Dimension.CiName, Dimension.Country, Dimension.Region,
            Dimension.EventName, Dimension.Command, Dimension.ErrorCode,
            Dimension.CloudRegion, // scanned on both sides (not a rollup key), so equal by construction; here so it stays answered
        ];
        var compared = 0;
        var nonEmpty = 0;
        foreach (var (from, to) in ranges)
        {
            foreach (var filter in filters)
            {
                var q = filter with { From = new DateTimeOffset(from, TimeSpan.Zero), To = new DateTimeOffset(to, TimeSpan.Zero) };
                async Task Same<T>(string what, Func<IAnalyticsStore, Task<T>> ask)
                {
                    var expected = JsonSerializer.Serialize(await ask(scan));
                    var actual = JsonSerializer.Serialize(await ask(rollups));
                    Assert.True(expected == actual, $"{what} for {q}:\n scan    {expected}\n rollups {actual}");
                    compared++;
                    nonEmpty += expected.Length > 2 && !expected.Contains("\"Installs\":0,", StringComparison.Ordinal) ? 1 : 0;
                }

                await Same("summary", s => s.SummaryAsync(q, default));
                await Same("installs last seen", s => s.InstallsAsync(q, 7, default));
                foreach (var interval in new[] { Interval.Day, Interval.Week, Interval.Month })
                {
                    await Same($"active installs per {interval}", s => s.ActiveInstallsAsync(q, interval, default));
                    await Same($"new installs per {interval}", s => s.NewInstallsAsync(q, interval, default));
                    await Same($"version adoption per {interval}", s => s.VersionAdoptionAsync(q, interval, 3, default));
                }

                await Same("retention", s => s.RetentionAsync(q, q.To, default));
                await Same("retention as of mid-range", s => s.RetentionAsync(q, q.From.AddDays(9).AddHours(7), default));
                foreach (var dimension in dimensions)
                {
                    await Same($"breakdown by {dimension}", s => s.BreakdownAsync(q, dimension, 3, default));
                }

                // A k that folds some labels and one that folds none.
                foreach (var k in new[] { 3, 12 })
                {
                    await Same($"commands, k = {k}", s => s.CommandsAsync(q, k, default));
                    await Same($"operations, k = {k}", s => s.OperationsAsync(q, k, default));
                }

                await Same("command durations", s => s.NumericAsync(q, "command", "duration_ms", default));
                await Same("sync durations", s => s.NumericAsync(q, "sync", "duration_ms", default));
                await Same("durations of an unknown event", s => s.NumericAsync(q, "nothing", "duration_ms", default));
            }
        }

        return (compared, nonEmpty);
    }

    internal static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    internal static async Task<string> SnapshotAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var text = new System.Text.StringBuilder();
        foreach (var (table, _, _) in PostgresRollups.Tables)
        {
            // Table names from the code's own list, not from input.
            await using var command = new NpgsqlCommand($"SELECT '{table}', t::text FROM {table} t ORDER BY 2", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                text.Append(reader.GetString(0)).Append(' ').AppendLine(reader.GetString(1));
            }
        }

        return text.ToString();
    }

    /// <summary>About 4,000 events of 80 installs (and some without an install) over ten weeks,
    /// in groups of 1–120. Some installs upgrade, move country or switch CI on the way; times fall
    /// anywhere in the day, including the first and last microseconds of a month.</summary>
    internal static List<List<EventRecord>> RandomGroups(Random random)
    {
        string?[] countries = ["DE", "US", "FR", null];
        string[] versions = ["1.0.0", "1.1.0", "2.0.0"];
        string[] oses = ["linux", "windows", "macos"];
        var events = new List<EventRecord>();
        for (var install = 0; install < 80; install++)
        {
            var id = new Guid($"00000000-0000-4000-9000-{install:D12}");
            var first = Start.AddDays(random.Next(0, 60)).AddSeconds(random.Next(0, 86400));
            var count = random.Next(1, 100);
            for (var n = 0; n < count; n++)
            {
                var time = n switch
                {
                    0 => first,
                    1 when install % 7 == 0 => new DateTime(2026, 10, 31, 23, 59, 59, DateTimeKind.Utc).AddTicks(9_999_999),
                    1 when install % 7 == 1 => new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc),
                    _ => first.AddSeconds(random.Next(0, 60 * 86400)),
                };
                var upgraded = n > count / 2 && install % 3 == 0;
                events.Add(Record(
                    install % 11 == 10 && n % 4 == 0 ? null : id,
                    time,
                    random.Next(6) switch { 0 => "heartbeat", 1 => "sync", 2 => "operation", 3 => "error", _ => "command" },
                    random,
                    upgraded ? versions[(install + 1) % 3] : versions[install % 3],
                    oses[install % 3],
                    install % 4 == 0 && n % 2 == 0,
                    countries[(install + (upgraded ? 1 : 0)) % 4],
                    random.Next(10) == 0));
            }
        }

        var shuffled = events.OrderBy(_ => random.Next()).ToList();
        var groups = new List<List<EventRecord>>();
        for (var i = 0; i < shuffled.Count;)
        {
            var size = Math.Min(random.Next(1, 120), shuffled.Count - i);
            groups.Add(shuffled.GetRange(i, size));
            i += size;
        }

        return groups;
    }

    private static EventRecord Record(Guid? install, DateTime time, string name, Random random, string version, string os, bool ci, string? country, bool failed)
    {
        string[] commands = ["run", "build", "test", "deploy", "rare"];
        var command = commands[random.Next(random.Next(10) == 0 ? 5 : 4)];
        var outcome = failed ? "failure" : "success";
        var json = name switch
        {
            // Whole milliseconds, as the SDK sends them; few distinct values, and some repeats.
            "command" => $$"""{"command":"{{command}}","exit_code":{{(failed ? 1 : 0)}},"duration_ms":{{random.Next(1, 40) * 5}}}""",
            "operation" => $$"""{"operation":"{{(random.Next(2) == 0 ? "load" : "save")}}","outcome":"{{outcome}}","duration_ms":{{random.Next(1, 300)}}{{(failed ? ",\"error_code\":\"E" + random.Next(4) + "\"" : "")}}}""",
            "sync" => random.Next(3) == 0 ? "{}" : $$"""{"duration_ms":{{random.Next(0, 50)}},"outcome":"{{outcome}}"}""",
            "error" => $$"""{"error_type":"IOException","error_code":"E{{random.Next(6)}}"}""",
            _ => "{}",
        };
        var properties = JsonSerializer.Deserialize(json, CollectorJsonContext.Default.IDictionaryStringPropertyValue);
        return new EventRecord
        {
            Product = "acme",
            Id = Guid.NewGuid(),
            Name = name,
            SchemaVersion = "1-0-0",
            Time = new DateTimeOffset(time),
            ReceivedAt = new DateTimeOffset(time.AddSeconds(1)),
            Context = new EventContext
            {
                Product = "acme",
                InstallId = install,
                SessionId = Guid.NewGuid(),
                ProductVersion = version,
                InitialVersion = "1.0.0",
                SdkVersion = "0.1.0",
                RuntimeVersion = os == "macos" ? null : "10.0.0",
                OsFamily = os,
                OsVersion = os + " 1",
                Architecture = "x64",
                Ci = ci,
                CiName = ci && install != Guid.Empty ? "github-actions" : null,
            },
            PropertiesJson = json,
            Country = country,
            Region = country is null ? null : country + "-1",
            Analytics = AnalyticsFields.Derive(new TelemetryEvent { Name = name, Properties = properties }),
        };
    }
}
