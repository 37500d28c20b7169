using Candor.Platform;

namespace Candor.Collector.Demo;

/// <summary>The surroundings of one simulated install: its own home directory (where the SDK keeps the
/// user's consent file and install id), its environment variables (CI, <c>DO_NOT_TRACK</c>), no terminal.</summary>
internal sealed class DemoEnvironment(string homeDirectory, IReadOnlyDictionary<string, string> variables) : ICandorEnvironment
{
    public string? GetVariable(string name) => variables.TryGetValue(name, out var value) ? value : null;

    public string CurrentDirectory => homeDirectory;

    public string HomeDirectory => homeDirectory;

    public bool IsInputTerminal => false;

    public bool IsErrorTerminal => false;

    public string? ReadLine() => null;

    // The first-run notice: the simulated user has read it.
    public void WriteError(string text)
    {
    }
}
