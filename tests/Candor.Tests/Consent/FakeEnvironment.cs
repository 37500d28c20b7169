using System.Text;
using Candor.Hosting;
using Candor.TestSupport;

namespace Candor.Tests.Consent;

/// <summary>
/// A process environment for consent tests: variables set by the test, a home and a working directory
/// in a fresh temporary directory (real files), a terminal that answers with the lines the test
/// queued and then reaches end of input, and a standard error the test reads.
/// </summary>
internal sealed class FakeEnvironment : ICandorEnvironment, IDisposable
{
    private readonly TemporaryDirectory _root = new("candor-consent");
    private readonly StringBuilder _error = new();
    private readonly Queue<string> _input = new();

    public FakeEnvironment()
    {
        HomeDirectory = _root.Combine("home");
        CurrentDirectory = _root.Combine("home", "work");
        Directory.CreateDirectory(CurrentDirectory);
    }

    public Dictionary<string, string?> Variables { get; } = new(StringComparer.Ordinal);

    public string CurrentDirectory { get; set; }

    public string HomeDirectory { get; }

    public bool IsInputTerminal { get; set; } = true;

    public bool IsErrorTerminal { get; set; } = true;

    public int LinesRead { get; private set; }

    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString();
            }
        }
    }

    public string UserFile => Path.Combine(HomeDirectory, ".config", "acme", "telemetry.toml");

    public string StateDirectory => Path.Combine(HomeDirectory, ".local", "state", "acme", "telemetry");

    public string? GetVariable(string name) => Variables.GetValueOrDefault(name);

    public void Type(params string[] lines)
    {
        foreach (var line in lines)
        {
            _input.Enqueue(line);
        }
    }

    public string? ReadLine()
    {
        LinesRead++;
        return _input.TryDequeue(out var line) ? line : null;
    }

    public void WriteError(string text)
    {
        lock (_error)
        {
            _error.Append(text);
        }
    }

    public void WriteUserFile(string toml)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(UserFile)!);
        File.WriteAllText(UserFile, toml);
    }

    public void WriteProjectFile(string toml, string? projectDirectory = null)
    {
        var path = Path.Combine(projectDirectory ?? CurrentDirectory, ".acme", "telemetry.toml");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, toml);
    }

    /// <summary>Every file under the home directory, relative to it.</summary>
    public string[] FilesUnderHome() =>
        [.. Directory.EnumerateFiles(HomeDirectory, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(HomeDirectory, f))];

    public void Dispose() => _root.Dispose();
}
