using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Candor.TestSupport;

/// <summary>What a finished program printed and returned.</summary>
internal sealed record ProgramResult(int ExitCode, string StandardOutput, string StandardError, TimeSpan Elapsed);

/// <summary>
/// Runs one of the solution's programs (<c>dotnet some.dll</c>) as a real process with a controlled
/// environment: the caller's telemetry-related variables are removed so the test decides them.
/// </summary>
internal static partial class ProgramProcess
{
    private static readonly string[] InheritedButCleared = ["DO_NOT_TRACK", "ACME_", "CANDOR_", "Candor__"];

    public static ProcessStartInfo StartInfo(string assemblyPath, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string?>? environment)
    {
        // An assembly runs through the dotnet host; anything else (a Native AOT build, or dotnet itself) runs directly.
        var native = !assemblyPath.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var info = new ProcessStartInfo(native ? assemblyPath : "dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (!native)
        {
            info.ArgumentList.Add(assemblyPath);
        }

        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var key in info.Environment.Keys.ToList())
        {
            if (InheritedButCleared.Any(prefix => key.StartsWith(prefix, StringComparison.Ordinal)))
            {
                info.Environment.Remove(key);
            }
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        return info;
    }

    public static async Task<ProgramResult> RunAsync(
        string assemblyPath, IEnumerable<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null, string? standardInput = null)
    {
        using var process = new Process { StartInfo = StartInfo(assemblyPath, arguments, workingDirectory, environment) };
        var stopwatch = Stopwatch.StartNew();
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
        }

        process.StandardInput.Close();
        using var cancellation = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(assemblyPath)} {string.Join(' ', arguments)} did not exit within {timeout}.");
        }

        stopwatch.Stop();
        return new ProgramResult(process.ExitCode, await stdout, await stderr, stopwatch.Elapsed);
    }

    /// <summary>Asks a process to stop as a service manager would (SIGTERM), so it shuts down gracefully.</summary>
    public static void Terminate(Process process)
    {
        if (OperatingSystem.IsWindows())
        {
            process.Kill();
            return;
        }

        _ = Kill(process.Id, 15);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
