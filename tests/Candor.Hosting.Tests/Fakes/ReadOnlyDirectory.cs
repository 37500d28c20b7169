using System.Diagnostics;
using Candor.TestSupport;

namespace Candor.Hosting.Tests.Fakes;

/// <summary>
/// A directory this process cannot write to, as in a read-only container: its mode is 0555, and when
/// that is not enough (the tests run as root, which ignores modes) it is made immutable with
/// <c>chattr +i</c>. <see cref="IsReadOnly"/> says whether either worked. Made writable again on dispose.
/// </summary>
internal sealed class ReadOnlyDirectory : IDisposable
{
    private readonly TemporaryDirectory _parent = new("candor-readonly");
    private readonly bool _immutable;

    /// <param name="files">Files (name, content) written before the directory is made read-only.</param>
    public ReadOnlyDirectory(params (string Name, string Content)[] files)
    {
        Path = _parent.Combine("state");
        Directory.CreateDirectory(Path);
        foreach (var (name, content) in files)
        {
            File.WriteAllText(System.IO.Path.Combine(Path, name), content);
        }

        if (OperatingSystem.IsWindows())
        {
            return;
        }

        File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        if (!Writable())
        {
            IsReadOnly = true;
            return;
        }

        _immutable = Chattr("+i");
        IsReadOnly = !Writable();
    }

    public string Path { get; }

    public bool IsReadOnly { get; }

    /// <summary>Every entry in the directory, by name.</summary>
    public string[] Entries() => [.. Directory.GetFileSystemEntries(Path).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal)!];

    public void Dispose()
    {
        if (_immutable)
        {
            Chattr("-i");
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        _parent.Dispose();
    }

    private bool Writable()
    {
        var probe = System.IO.Path.Combine(Path, ".probe");
        try
        {
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private bool Chattr(string flag)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("chattr", [flag, Path]) { RedirectStandardError = true, RedirectStandardOutput = true });
            process!.WaitForExit(5000);
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
