using System.Text;
using Candor.Platform;

namespace Candor.TestSupport;

/// <summary>
/// The process environment of an in-process client under test, the one fake of
/// <see cref="ICandorEnvironment"/>: variables set by the test (no XDG variable unless the test sets one,
/// so the SDK's defaults are what is exercised), a <see cref="TemporaryHome"/> whose <c>work</c> folder is
/// the working directory (real files), a terminal that answers with the lines the test queued and then
/// reaches end of input, and a standard error the test reads. The tools under test are called "acme".
/// </summary>
internal sealed class FakeEnvironment : ICandorEnvironment, IDisposable
{
    /// <summary>The product name of the test tools, which names their settings and state folders.</summary>
    public const string Product = "acme";

    private readonly StringBuilder _error = new();
    private readonly Queue<string> _input = new();

    public FakeEnvironment()
    {
        CurrentDirectory = Home.Combine("work");
        Directory.CreateDirectory(CurrentDirectory);
    }

    public TemporaryHome Home { get; } = new();

    public Dictionary<string, string?> Variables { get; } = new(StringComparer.Ordinal);

    public string CurrentDirectory { get; set; }

    public string HomeDirectory => Home.Path;

    public bool IsInputTerminal { get; set; } = true;

    public bool IsErrorTerminal { get; set; } = true;

    public int LinesRead { get; private set; }

    /// <summary>Everything written to standard error so far.</summary>
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

    // Where the SDK keeps acme's files while no XDG variable is set.
    public string UserFile => Home.UserFile(Product);

    public string StateDirectory => Home.StateDirectory(Product);

    public string SpoolDirectory => Home.SpoolDirectory(Product);

    public string TransparencyLogPath => Home.TransparencyLog(Product);

    public string? GetVariable(string name) => Variables.GetValueOrDefault(name);

    /// <summary>Queues lines the person at the terminal will type.</summary>
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
        var path = Path.Combine(projectDirectory ?? CurrentDirectory, "." + Product, "telemetry.toml");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, toml);
    }

    /// <summary>Every file under the home directory, relative to it.</summary>
    public string[] Files() => Home.Files();

    /// <summary>The batches waiting in acme's spool.</summary>
    public string[] SpoolFiles() => Home.SpoolFiles(Product);

    public void Dispose() => Home.Dispose();
}
