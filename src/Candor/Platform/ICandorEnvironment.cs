namespace Candor.Platform;

/// <summary>
/// Everything the SDK reads from the process's surroundings, behind one seam so every consent and
/// delivery rule has a fast unit test. <see cref="SystemEnvironment"/> is the real one. Files are not
/// behind the seam: tests point <see cref="HomeDirectory"/>, <see cref="CurrentDirectory"/> and the
/// XDG variables at a temporary directory and use the real file system.
/// </summary>
internal interface ICandorEnvironment
{
    /// <summary>An environment variable's value, or <see langword="null"/> when unset.</summary>
    string? GetVariable(string name);

    /// <summary>The process's working directory.</summary>
    string CurrentDirectory { get; }

    /// <summary>The user's home directory.</summary>
    string HomeDirectory { get; }

    /// <summary>Whether standard input is a terminal a person can type into.</summary>
    bool IsInputTerminal { get; }

    /// <summary>Whether standard error is a terminal a person reads.</summary>
    bool IsErrorTerminal { get; }

    /// <summary>Reads one line a person typed, without its line break; <see langword="null"/> at the
    /// end of input.</summary>
    string? ReadLine();

    /// <summary>Writes text to standard error as it is (the caller adds line breaks).</summary>
    void WriteError(string text);
}

/// <summary>The real process environment.</summary>
internal sealed class SystemEnvironment : ICandorEnvironment
{
    public static readonly SystemEnvironment Instance = new();

    public string? GetVariable(string name) => Environment.GetEnvironmentVariable(name);

    public string CurrentDirectory => Environment.CurrentDirectory;

    // HOME first on Unix (what GetFolderPath reads too, with more work around it at startup).
    public string HomeDirectory =>
        !OperatingSystem.IsWindows() && Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home && Path.IsPathRooted(home)
            ? home
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    // Console reports a redirected handle when it is not a terminal (isatty on Unix).
    public bool IsInputTerminal => !Console.IsInputRedirected;

    public bool IsErrorTerminal => !Console.IsErrorRedirected;

    public string? ReadLine()
    {
        try
        {
            return Console.In.ReadLine();
        }
        catch (IOException)
        {
            return null;
        }
    }

    public void WriteError(string text)
    {
        try
        {
            Console.Error.Write(text);
            Console.Error.Flush();
        }
        catch (IOException)
        {
            // A closed stderr must not fail the host.
        }
    }
}
