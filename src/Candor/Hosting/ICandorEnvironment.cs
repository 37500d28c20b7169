namespace Candor.Hosting;

/// <summary>
/// Everything the SDK reads from the process's surroundings, behind one seam so every consent and
/// delivery rule has a fast unit test. <see cref="SystemEnvironment"/> is the real one.
/// </summary>
internal interface ICandorEnvironment
{
    /// <summary>An environment variable's value, or <see langword="null"/> when unset.</summary>
    string? GetVariable(string name);

    /// <summary>The process's working directory.</summary>
    string CurrentDirectory { get; }

    /// <summary>The user's home directory.</summary>
    string HomeDirectory { get; }
}

/// <summary>The real process environment.</summary>
internal sealed class SystemEnvironment : ICandorEnvironment
{
    public static readonly SystemEnvironment Instance = new();

    public string? GetVariable(string name) => Environment.GetEnvironmentVariable(name);

    public string CurrentDirectory => Environment.CurrentDirectory;

    public string HomeDirectory => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
}
