using System.Diagnostics;
using System.Text;

namespace Candor.TestSupport;

/// <summary>
/// One of the solution's ASP.NET Core programs running as a real process: its standard output and error
/// kept together, and the address it printed on "Now listening on:" (it listens on a port the OS picks).
/// The collector and the sample service are both started through it.
/// </summary>
internal sealed class ListeningProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ListeningProcess(ProcessStartInfo info, string name)
    {
        _process = new Process { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException($"{name} exited early:\n" + Output));
    }

    public Uri BaseAddress { get; private set; } = null!;

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the program printed, standard output and error together.</summary>
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

    /// <summary>Starts the program (standard input closed) and waits until it listens.</summary>
    public static async Task<ListeningProcess> StartAsync(ProcessStartInfo info, string name)
    {
        var started = new ListeningProcess(info, name);
        started._process.Start();
        started._process.StandardInput.Close();
        started._process.BeginOutputReadLine();
        started._process.BeginErrorReadLine();
        started.BaseAddress = await started._listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return started;
    }

    /// <summary>Sends SIGTERM, as a service manager would, and waits for the exit; returns how long that
    /// took, or null when the program had to be killed after <paramref name="timeout"/>.</summary>
    public async Task<TimeSpan?> TerminateAsync(TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        if (_process.HasExited)
        {
            return TimeSpan.Zero;
        }

        ProgramProcess.Terminate(_process);
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
            return stopwatch.Elapsed;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            return null;
        }
    }

    /// <summary>Kills the program at once (SIGKILL) and waits for it.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
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
