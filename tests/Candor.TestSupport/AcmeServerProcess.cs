namespace Candor.TestSupport;

/// <summary>
/// The sample service <c>acme-server</c> running as a real process on a loopback port the OS picks, with
/// its telemetry pointed wherever the test says and its state in a directory of the test's.
/// </summary>
internal sealed class AcmeServerProcess : IAsyncDisposable
{
    private readonly ListeningProcess _process;

    private AcmeServerProcess(ListeningProcess process) => _process = process;

    /// <summary>Acme Server's event schemas, for a collector that takes its events.</summary>
    public static string SchemaDirectory => Path.Combine(RepositoryPaths.Root, "samples", "Acme.Server", "schemas");

    public Uri BaseAddress => _process.BaseAddress;

    /// <summary>Everything the server printed (its log), standard output and error together.</summary>
    public string Output => _process.Output;

    public int ExitCode => _process.ExitCode;

    public static async Task<AcmeServerProcess> StartAsync(string workingDirectory, IReadOnlyDictionary<string, string?> environment)
    {
        var info = ProgramProcess.StartInfo(
            RepositoryPaths.ProgramAssembly("Acme.Server", "acme-server.dll"),
            ["--urls", "http://127.0.0.1:0"], workingDirectory,
            new Dictionary<string, string?>(environment) { ["ASPNETCORE_ENVIRONMENT"] = "Production" });
        return new AcmeServerProcess(await ListeningProcess.StartAsync(info, "acme-server"));
    }

    /// <summary>Sends SIGTERM, as a service manager or a container runtime would, and waits for the exit;
    /// returns how long the shutdown took.</summary>
    public async Task<TimeSpan> TerminateAsync(TimeSpan timeout) =>
        await _process.TerminateAsync(timeout)
            ?? throw new TimeoutException($"acme-server did not stop within {timeout} of SIGTERM:\n" + Output);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
