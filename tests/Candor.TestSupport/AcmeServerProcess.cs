using System.Diagnostics;
using System.Text;

namespace Candor.TestSupport;

/// <summary>
/// The sample service <c>acme-server</c> running as a real process on a loopback port the OS picks, with
/// its telemetry pointed wherever the test says and its state in a directory of the test's.
/// </summary>
internal sealed class AcmeServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AcmeServerProcess(string workingDirectory, IReadOnlyDictionary<string, string?> environment)
    {
        var info = ProgramProcess.StartInfo(
            RepositoryPaths.ProgramAssembly("Acme.Server", "acme-server.dll"),
            ["--urls", "http://127.0.0.1:0"], workingDirectory,
            new Dictionary<string, string?>(environment) { ["ASPNETCORE_ENVIRONMENT"] = "Production" });
        _process = new Process { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException("acme-server exited early:\n" + Output));
    }

    /// <summary>Acme Server's event schemas, for a collector that takes its events.</summary>
    public static string SchemaDirectory => Path.Combine(RepositoryPaths.Root, "samples", "Acme.Server", "schemas");

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Everything the server printed (its log), standard output and error together.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static async Task<AcmeServerProcess> StartAsync(string workingDirectory, IReadOnlyDictionary<string, string?> environment)
    {
        var server = new AcmeServerProcess(workingDirectory, environment);
        server._process.Start();
        server._process.StandardInput.Close();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        server.BaseAddress = await server._listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return server;
    }

    /// <summary>Sends SIGTERM, as a service manager or a container runtime would, and waits for the exit;
    /// returns how long the shutdown took.</summary>
    public async Task<TimeSpan> TerminateAsync(TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        if (!_process.HasExited)
        {
            ProgramProcess.Terminate(_process);
        }

        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"acme-server did not stop within {timeout} of SIGTERM:\n" + Output);
        }

        return stopwatch.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        const string Marker = "Now listening on: ";
        var index = line.IndexOf(Marker, StringComparison.Ordinal);
        if (index >= 0)
        {
            _listening.TrySetResult(new Uri(line[(index + Marker.Length)..].Trim()));
        }
    }
}
