namespace Candor.TestSupport;

/// <summary>
/// A throw-away home directory for one test, laid out as the SDK lays it out on Linux: settings under
/// <c>.config/&lt;product&gt;</c>, the spool and transparency log under <c>.local/state/&lt;product&gt;/telemetry</c>.
/// <see cref="Variables()"/> points a program at it (HOME and the XDG folders), so neither an in-process
/// client (through <see cref="FakeEnvironment"/>) nor a started program reads or writes the real home
/// of the machine running the tests.
/// </summary>
internal sealed class TemporaryHome : IDisposable
{
    private readonly TemporaryDirectory _directory;

    public TemporaryHome(string prefix = "candor-home") => _directory = new TemporaryDirectory(prefix);

    /// <summary>The home directory (HOME).</summary>
    public string Path => _directory.Path;

    /// <summary>The XDG config folder: <c>&lt;home&gt;/.config</c>.</summary>
    public string ConfigHome => ConfigHomeOf(Path);

    /// <summary>The XDG state folder: <c>&lt;home&gt;/.local/state</c>.</summary>
    public string StateHome => StateHomeOf(Path);

    public string Combine(params string[] parts) => _directory.Combine(parts);

    /// <summary>A product's user settings file: <c>&lt;home&gt;/.config/&lt;product&gt;/telemetry.toml</c>.</summary>
    public string UserFile(string product) => System.IO.Path.Combine(ConfigHome, product, "telemetry.toml");

    /// <summary>A product's state directory: <c>&lt;home&gt;/.local/state/&lt;product&gt;/telemetry</c>.</summary>
    public string StateDirectory(string product) => System.IO.Path.Combine(StateHome, product, "telemetry");

    public string SpoolDirectory(string product) => System.IO.Path.Combine(StateDirectory(product), "spool");

    public string TransparencyLog(string product) => System.IO.Path.Combine(StateDirectory(product), "transparency.jsonl");

    /// <summary>The batches a product has spooled, waiting to be sent.</summary>
    public string[] SpoolFiles(string product) =>
        Directory.Exists(SpoolDirectory(product)) ? Directory.GetFiles(SpoolDirectory(product), "*.batch.json") : [];

    /// <summary>Every file under the home directory, relative to it.</summary>
    public string[] Files() =>
        [.. Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories).Select(f => System.IO.Path.GetRelativePath(Path, f))];

    /// <summary>HOME, XDG_CONFIG_HOME and XDG_STATE_HOME for a program that should live in this home; the
    /// caller adds its own variables to the dictionary.</summary>
    public Dictionary<string, string?> Variables() => VariablesFor(Path);

    /// <inheritdoc cref="Variables()"/>
    public static Dictionary<string, string?> VariablesFor(string home) => new(StringComparer.Ordinal)
    {
        ["HOME"] = home,
        ["XDG_CONFIG_HOME"] = ConfigHomeOf(home),
        ["XDG_STATE_HOME"] = StateHomeOf(home),
    };

    public void Dispose() => _directory.Dispose();

    private static string ConfigHomeOf(string home) => System.IO.Path.Combine(home, ".config");

    private static string StateHomeOf(string home) => System.IO.Path.Combine(home, ".local", "state");
}
