using Candor.Catalog;
using Candor.Consent;
using Candor.Platform;
using Candor.Redaction;

namespace Candor.Tests.Delivery;

/// <summary>Builds clients the way <c>CandorClient.Create</c> does, with a chosen consent level and environment.</summary>
internal static class TestClients
{
    public static EventCatalog Catalog { get; } = new EventCatalog()
        .Add(new EventDefinition("command", "A command ran.")
            .String("command", "The command path.", required: true)
            .Integer("exit_code", "The exit code.")
            .Integer("duration_ms", "Duration.", minimum: 0)
            .String("arguments", "The masked arguments."))
        .Add(new EventDefinition("tick", "A numbered test event.").Integer("i", "The number.", required: true))
        .Add(new EventDefinition("pipeline", "A pipeline ran.")
            .String("name", "A name.", maxLength: 20)
            .Integer("nodes", "Node count.", minimum: 0, maximum: 10_000)
            .Number("ratio", "A ratio.", minimum: 0, maximum: 1)
            .Boolean("cached", "Whether cached.")
            .Enum("mode", "The mode.", ["fast", "safe"]))
        .Add(EventDefinition.Operation("build", "A build ran."))
        .Add(EventDefinition.Error());

    public static CandorOptions Options(Uri? endpoint, Action<CandorOptions>? configure = null)
    {
        var options = new CandorOptions
        {
            ProductName = "acme",
            ProductVersion = "2.0.0",
            Endpoint = endpoint,
            WriteKey = "wk_test",
            Catalog = Catalog,
            FlushBudget = TimeSpan.FromSeconds(5),
        };
        configure?.Invoke(options);
        Assert.Empty(options.Validate());
        return options;
    }

    public static CandorClient Create(CandorOptions options, ICandorEnvironment environment, TelemetryLevel level = TelemetryLevel.Anonymous, TimeProvider? time = null) =>
        new(options, new ConsentDecision(level, "test", Guid.CreateVersion7(), "user-42"), environment, time ?? options.TimeProvider,
            new Redactor("alice", "build-box-7", "/home/alice"));

    /// <summary>Polls until <paramref name="condition"/> holds, for at most 10 s.</summary>
    public static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting until " + what);
            await Task.Delay(20);
        }
    }
}
