using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Candor.TestSupport;

/// <summary>
/// The collector running as a real process on a loopback port the OS picks, with its own data
/// directory, a write key for <c>acme</c> and an admin token.
/// </summary>
internal sealed class CollectorProcess : IAsyncDisposable
{
    public const string WriteKey = "wk_test_acme_0123456789abcdef";
    public const string AdminToken = "adm_test_0123456789abcdef0123";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private CollectorProcess(string dataDirectory, IReadOnlyDictionary<string, string?>? extraEnvironment, IReadOnlyList<string>? arguments)
    {
        DataDirectory = dataDirectory;
        var environment = new Dictionary<string, string?>
        {
            ["Candor__DataDirectory"] = dataDirectory,
            ["Candor__AdminToken"] = AdminToken,
            ["Candor__Products__acme__WriteKey"] = WriteKey,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Candor__SchemaDirectory"] = SampleSchemaDirectory,
        };
        foreach (var (key, value) in extraEnvironment ?? new Dictionary<string, string?>())
        {
            environment[key] = value;
        }

        var info = ProgramProcess.StartInfo(
            RepositoryPaths.ProgramAssembly("Candor.Collector", "Candor.Collector.dll"),
            ["--urls", "http://127.0.0.1:0", .. arguments ?? []], dataDirectory, environment);
        _process = new Process { StartInfo = info, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Exited += (_, _) => _listening.TrySetException(new InvalidOperationException("The collector exited early:\n" + Output));
    }

    /// <summary>The demo tool's event schemas, which the collector validates against by default.</summary>
    public static string SampleSchemaDirectory => Path.Combine(RepositoryPaths.Root, "samples", "Acme.Cli", "schemas");

    public string DataDirectory { get; }

    /// <summary>The process id, e.g. to read its memory use.</summary>
    public int ProcessId => _process.Id;

    public Uri BaseAddress { get; private set; } = null!;

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

    public static async Task<CollectorProcess> StartAsync(
        string dataDirectory, IReadOnlyDictionary<string, string?>? environment = null, IReadOnlyList<string>? arguments = null)
    {
        var collector = new CollectorProcess(dataDirectory, environment, arguments);
        collector._process.Start();
        collector._process.StandardInput.Close();
        collector._process.BeginOutputReadLine();
        collector._process.BeginErrorReadLine();
        collector.BaseAddress = await collector._listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return collector;
    }

    public HttpClient CreateAdminClient()
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    /// <summary>The stored events of a product, newest first, as JSON.</summary>
    public async Task<JsonElement[]> ReadEventsAsync(string product = "acme", int limit = 1000)
    {
        using var client = CreateAdminClient();
        using var document = JsonDocument.Parse(await client.GetStringAsync($"/v1/admin/events?product={product}&limit={limit}"));
        return [.. document.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary>Waits until the collector has printed a line containing <paramref name="text"/>; returns that line.</summary>
    public async Task<string> WaitForOutputAsync(string text, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        while (true)
        {
            var line = Output.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            if (_process.HasExited || cancellation.IsCancellationRequested)
            {
                throw new TimeoutException($"The collector never printed '{text}':\n" + Output);
            }

            await Task.Delay(200, CancellationToken.None);
        }
    }

    /// <summary>Stops the collector gracefully and waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        ProgramProcess.Terminate(_process);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Kills the collector at once (SIGKILL): no shutdown, no drain, as in a crash or an OOM kill.</summary>
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
        await StopAsync();
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
