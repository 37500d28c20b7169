using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>The right to erasure from the user's side: the real <c>acme</c> binary asking the real collector
/// process to delete what it holds for the install, at once or, when the collector was down, on a later run.</summary>
public sealed class AcmeForgetTests
{
    private static readonly string AcmeAssembly = RepositoryPaths.ProgramAssembly("Acme.Cli", "acme.dll");

    [Fact]
    public async Task ForgetDeletesWhatTheCollectorHoldsForTheInstallAndTheNextRunStartsAfresh()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        Assert.Equal(0, (await RunAcmeAsync(collector, home.Path, "run", "--pipeline", "a")).ExitCode);
        var forgotten = InstallIdOf(Assert.Single(await collector.ReadEventsAsync()));

        var forget = await RunAcmeAsync(collector, home.Path, "telemetry", "forget");
        var afterForget = await collector.ReadEventsAsync();
        Assert.Equal(0, (await RunAcmeAsync(collector, home.Path, "run", "--pipeline", "a")).ExitCode);

        Assert.Equal(0, forget.ExitCode);
        Assert.Contains($"The collector deleted 1 events and 0 quarantined events of install {forgotten}", forget.StandardOutput, StringComparison.Ordinal);
        Assert.Empty(afterForget);
        var later = Assert.Single(await collector.ReadEventsAsync());
        Assert.NotEqual(forgotten, InstallIdOf(later));
    }

    [Fact]
    public async Task AForgetTheCollectorWasDownForIsSentByTheNextRunOnceItIsBack()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        string forgotten;
        CollectorProcess stopped;
        await using (var first = await CollectorProcess.StartAsync(data.Path))
        {
            Assert.Equal(0, (await RunAcmeAsync(first, home.Path, "run", "--pipeline", "a")).ExitCode);
            forgotten = InstallIdOf(Assert.Single(await first.ReadEventsAsync()));
            stopped = first;
        }

        var forget = await RunAcmeAsync(stopped, home.Path, "telemetry", "forget");
        var pending = await RunAcmeAsync(stopped, home.Path, "telemetry", "status");
        await using var second = await CollectorProcess.StartAsync(data.Path);
        Assert.Equal(0, (await RunAcmeAsync(second, home.Path, "run", "--pipeline", "b")).ExitCode);
        var status = await RunAcmeAsync(second, home.Path, "telemetry", "status");

        Assert.Equal(0, forget.ExitCode);
        Assert.Contains("sent again by later runs of acme", forget.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Deletion on the collector: requested ", pending.StandardOutput, StringComparison.Ordinal);
        var left = Assert.Single(await second.ReadEventsAsync());
        Assert.NotEqual(forgotten, InstallIdOf(left));
        Assert.DoesNotContain("Deletion on the collector", status.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"Privacy page:    {new Uri(second.BaseAddress, "/privacy/acme")}", status.StandardOutput, StringComparison.Ordinal);
    }

    private static string InstallIdOf(System.Text.Json.JsonElement stored) =>
        stored.GetProperty("context").GetProperty("install_id").GetString()!;

    private static Task<ProgramResult> RunAcmeAsync(CollectorProcess collector, string home, params string[] arguments)
    {
        var environment = TemporaryHome.VariablesFor(home);
        environment["ACME_TELEMETRY_ENDPOINT"] = collector.BaseAddress.ToString();
        environment["ACME_TELEMETRY_WRITE_KEY"] = CollectorProcess.WriteKey;
        environment["ACME_TELEMETRY"] = "anonymous";
        environment["ACME_FLUSH_MS"] = "5000";
        return ProgramProcess.RunAsync(AcmeAssembly, arguments, home, environment);
    }
}
