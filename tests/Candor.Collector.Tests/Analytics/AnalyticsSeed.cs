namespace Candor.Collector.Tests.Analytics;

/// <summary>One stored event, as the analytics tests seed it.</summary>
internal sealed record SeedEvent(
    string Product, Guid InstallId, string Name, DateTime Time, string Version, string InitialVersion, string Os,
    bool Ci, string? CiName, string? Country, string? Region, string PropertiesJson, DateTime? ReceivedAt = null);

/// <summary>
/// A small, fully known data set. Twelve installs of <c>acme</c>:
/// six on 1.0.0/linux/DE-BE active 2026-10-01 and 2026-10-20; five on 2.0.0/windows/US-CA in CI
/// (github-actions) active 2026-11-01 only; one on 3.0.0-beta/macos/FR active 2026-11-02 and
/// 2026-11-10. Every expected figure in the tests follows from this by hand.
/// </summary>
internal static class AnalyticsSeed
{
    public static readonly Guid[] Linux = [.. Enumerable.Range(1, 6).Select(Id)];
    public static readonly Guid[] Windows = [.. Enumerable.Range(7, 5).Select(Id)];
    public static readonly Guid Mac = Id(12);

    public static IReadOnlyList<SeedEvent> Events(DateTime now)
    {
        var list = new List<SeedEvent>();
        var oct1 = new DateTime(2026, 10, 1, 9, 0, 0, DateTimeKind.Utc);
        var oct20 = new DateTime(2026, 10, 20, 9, 0, 0, DateTimeKind.Utc);
        var nov1 = new DateTime(2026, 11, 1, 9, 0, 0, DateTimeKind.Utc);
        var nov2 = new DateTime(2026, 11, 2, 9, 0, 0, DateTimeKind.Utc);
        var nov10 = new DateTime(2026, 11, 10, 9, 0, 0, DateTimeKind.Utc);

        for (var i = 0; i < Linux.Length; i++)
        {
            var install = Linux[i];
            SeedEvent E(string name, DateTime t, string json) => new("acme", install, name, t, "1.0.0", "1.0.0", "linux", false, null, "DE", "BE", json);
            list.Add(E("command", oct1, Command("run", 0, 100)));
            list.Add(E("command", oct20, Command("run", 0, 100)));
            list.Add(E("command", oct1.AddMinutes(5), Command("new", i < 2 ? 1 : 0, 300)));
            list.Add(E("operation", oct1.AddMinutes(6),
                $$"""{"operation":"load","outcome":"failure","duration_ms":40,"error_code":"{{(i < 5 ? "E_TIMEOUT" : "E_RARE")}}"}"""));
        }

        foreach (var install in Windows)
        {
            list.Add(new("acme", install, "command", nov1, "2.0.0", "1.5.0", "windows", true, "github-actions", "US", "CA", Command("run", 0, 100)));
            list.Add(new("acme", install, "heartbeat", now.AddMinutes(-5), "2.0.0", "1.5.0", "windows", true, "github-actions", "US", "CA", "{}", now.AddMinutes(-5)));
        }

        list.Add(new("acme", Mac, "command", nov2, "3.0.0-beta", "3.0.0-beta", "macos", false, null, "FR", null, Command("run", 0, 100)));
        list.Add(new("acme", Mac, "command", nov10, "3.0.0-beta", "3.0.0-beta", "macos", false, null, "FR", null, Command("run", 0, 100)));
        list.Add(new("acme", Mac, "command", nov10.AddMinutes(1), "3.0.0-beta", "3.0.0-beta", "macos", false, null, "FR", null, Command("secret-cmd", 0, 50)));
        // A stale heartbeat: not live.
        list.Add(new("acme", Linux[0], "heartbeat", now.AddHours(-2), "1.0.0", "1.0.0", "linux", false, null, "DE", "BE", "{}", now.AddHours(-2)));

        // Another product that must never leak into acme's answers.
        for (var i = 0; i < 8; i++)
        {
            list.Add(new("beta", Id(100 + i), "command", oct1, "9.9.9", "9.9.9", "linux", false, null, "DE", "BE", Command("run", 1, 5)));
            // What the SDK's StartOperation records: an event named after the operation, with an outcome.
            list.Add(new("beta", Id(100 + i), "sync", oct1.AddMinutes(1), "9.9.9", "9.9.9", "linux", false, null, "DE", "BE",
                i < 3
                    ? $$"""{"duration_ms":{{10 * (i + 1)}},"outcome":"failure","error_code":"E_SYNC"}"""
                    : $$"""{"duration_ms":{{10 * (i + 1)}},"outcome":"success"}"""));
        }

        return list;
    }

    private static string Command(string command, int exitCode, int durationMs) =>
        $$"""{"command":"{{command}}","exit_code":{{exitCode}},"duration_ms":{{durationMs}}}""";

    private static Guid Id(int n) => new($"00000000-0000-4000-8000-{n:D12}");

    /// <summary>Three events of <c>acme</c> rejected in November (two with an undeclared property
    /// against command 1-0-0, one of an unknown schema), and one of <c>beta</c>.</summary>
    public static IReadOnlyList<Candor.Collector.Storage.QuarantineRecord> Quarantine()
    {
        var nov5 = new DateTimeOffset(2026, 11, 5, 9, 0, 0, TimeSpan.Zero);
        Candor.Collector.Storage.QuarantineRecord Rejected(string product, string reason, string schema) => new()
        {
            Product = product,
            EventId = Guid.CreateVersion7(),
            ReasonCode = reason,
            Message = "rejected",
            SchemaRef = schema,
            ReceivedAt = nov5,
            EventJson = "{}",
        };

        return
        [
            Rejected("acme", "undeclared_property", "acme/command/1-0-0"),
            Rejected("acme", "undeclared_property", "acme/command/1-0-0"),
            Rejected("acme", "unknown_schema", "acme/teleport/latest"),
            Rejected("beta", "unknown_schema", "beta/teleport/latest"),
        ];
    }
}
