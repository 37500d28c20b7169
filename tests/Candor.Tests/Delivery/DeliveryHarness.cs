using Candor.Catalog;
using Candor.Consent;
using Candor.Hosting;
using Candor.Redaction;
using Candor.TestSupport;

namespace Candor.Tests.Delivery;

/// <summary>An environment whose home and state directories are a fresh temporary folder.</summary>
internal sealed class TemporaryHomeEnvironment : ICandorEnvironment, IDisposable
{
    private readonly TemporaryDirectory _home = new("candor-home");

    public Dictionary<string, string?> Variables { get; } = new(StringComparer.Ordinal);

    public string? GetVariable(string name) =>
        Variables.TryGetValue(name, out var value) ? value
        : name == "XDG_STATE_HOME" ? Path.Combine(_home.Path, ".local", "state")
        : null;

    public string CurrentDirectory => _home.Path;

    public string HomeDirectory => _home.Path;

    public bool IsInputTerminal => false;

    public bool IsErrorTerminal => false;

    public List<string> ErrorOutput { get; } = [];

    public string? ReadLine() => null;

    public void WriteError(string text) => ErrorOutput.Add(text);

    public string StateDirectory => CandorDirectories.StateDirectory(this, "acme");

    public string SpoolDirectory => Path.Combine(StateDirectory, "spool");

    public string TransparencyLogPath => Path.Combine(StateDirectory, "transparency.jsonl");

    /// <summary>Every file under the home folder, relative.</summary>
    public IReadOnlyList<string> Files() =>
        [.. Directory.EnumerateFiles(_home.Path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(_home.Path, f))];

    public string[] SpoolFiles() =>
        Directory.Exists(SpoolDirectory) ? Directory.GetFiles(SpoolDirectory, "*.batch.json") : [];

    public void Dispose() => _home.Dispose();
}

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
