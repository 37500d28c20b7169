namespace Candor.Collector.Tests.Analytics;

/// <summary>
/// What the viewer tests read: seven installs of <c>acme</c> (k + 2 for k = 5) alike — 1.0.0, linux,
/// DE/BE, not in CI — active ten and three days ago and live now, and one lone install unlike them in
/// every filter and dimension — 3.0.0, macos, FR/IDF, in CI (github-actions), its own command,
/// operation, event, error code, route, HTTP error, client and language — active five days ago only
/// (and live now). Every figure of the lone install's own must be withheld from the viewer.
/// </summary>
internal static class ViewerSeed
{
    public const int K = 5;

    public static readonly Guid[] Group = [.. Enumerable.Range(1, K + 2).Select(Id)];
    public static readonly Guid Lone = Id(99);

    /// <summary>The values only the lone install has, in any label or filter.</summary>
    public static readonly string[] LoneValues =
        ["FR", "FR/IDF", "3.0.0", "macos", "macos 1", "github-actions", "lonely", "lone-op", "lone_event", "E_LONE", "/lone", "lone_error", "lone-client", "fi"];

    public static DateTime Today => DateTime.UtcNow.Date;

    public static DateTime LoneDay => Today.AddDays(-5);

    public static IReadOnlyList<SeedEvent> Events(DateTime now)
    {
        var list = new List<SeedEvent>();
        foreach (var install in Group)
        {
            SeedEvent E(string name, DateTime t, string json, DateTime? received = null) =>
                new("acme", install, name, t, "1.0.0", "1.0.0", "linux", false, null, "DE", "BE", json, received);
            foreach (var day in new[] { Today.AddDays(-10), Today.AddDays(-3) })
            {
                list.AddRange(Activity(E, day.AddHours(9), "run", "load", "E_COMMON", "/items", "common_error", "curl", "en", "tool_started"));
            }

            list.Add(E("heartbeat", now.AddMinutes(-5), "{}", now.AddMinutes(-5)));
        }

        SeedEvent L(string name, DateTime t, string json, DateTime? received = null) =>
            new("acme", Lone, name, t, "3.0.0", "3.0.0", "macos", true, "github-actions", "FR", "IDF", json, received);
        list.AddRange(Activity(L, LoneDay.AddHours(9), "lonely", "lone-op", "E_LONE", "/lone", "lone_error", "lone-client", "fi", "lone_event"));
        list.Add(L("heartbeat", now.AddMinutes(-5), "{}", now.AddMinutes(-5)));
        return list;
    }

    // One day of a tool and service's use: a command run, an operation, an error, an event of its
    // own, a startup, request usage, a failed request and client kinds.
    private static IEnumerable<SeedEvent> Activity(
        Func<string, DateTime, string, DateTime?, SeedEvent> e, DateTime t,
        string command, string operation, string errorCode, string route, string httpError, string client, string language, string eventName)
    {
        yield return e("command", t, $$"""{"command":"{{command}}","exit_code":1,"duration_ms":120,"error_code":"{{errorCode}}"}""", null);
        yield return e("operation", t.AddMinutes(1), $$"""{"operation":"{{operation}}","outcome":"success","duration_ms":40}""", null);
        yield return e("error", t.AddMinutes(2), $$"""{"error_type":"IOException","error_code":"{{errorCode}}"}""", null);
        yield return e(eventName, t.AddMinutes(3), """{"files":3}""", null);
        yield return e("startup", t.AddMinutes(4), """{"startup_ms":900}""", null);
        yield return e("http_requests", t.AddMinutes(5),
            $$"""{"route":"{{route}}","method":"GET","status_class":"2xx","count":10,"errors":1,"duration_sum_ms":100,"d_le_10":10}""", null);
        yield return e("http_error", t.AddMinutes(6),
            $$"""{"route":"{{route}}","method":"GET","status":500,"error_code":"{{httpError}}","count":1}""", null);
        yield return e("http_clients", t.AddMinutes(7), $$"""{"client":"{{client}}","language":"{{language}}","count":10}""", null);
        yield return e("shutdown", t.AddMinutes(8), """{"uptime_s":480,"reason":"stopped"}""", null);
    }

    private static Guid Id(int n) => new($"00000000-0000-4000-a000-{n:D12}");
}
