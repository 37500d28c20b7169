using System.Net.Http.Headers;
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

    private readonly ListeningProcess _process;

    private CollectorProcess(string dataDirectory, ListeningProcess process)
    {
        DataDirectory = dataDirectory;
        _process = process;
    }

    /// <summary>The demo tool's event schemas, which the collector validates against by default.</summary>
    public static string SampleSchemaDirectory => Path.Combine(RepositoryPaths.Root, "samples", "Acme.Cli", "schemas");

    public string DataDirectory { get; }

    /// <summary>The process id, e.g. to read its memory use.</summary>
    public int ProcessId => _process.ProcessId;

    public Uri BaseAddress => _process.BaseAddress;

    public string Output => _process.Output;

    public static async Task<CollectorProcess> StartAsync(
        string dataDirectory, IReadOnlyDictionary<string, string?>? environment = null, IReadOnlyList<string>? arguments = null)
    {
        var variables = new Dictionary<string, string?>
        {
            ["Candor__DataDirectory"] = dataDirectory,
            ["Candor__AdminToken"] = AdminToken,
            ["Candor__Products__acme__WriteKey"] = WriteKey,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Candor__SchemaDirectory"] = SampleSchemaDirectory,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            variables[key] = value;
        }

        var info = ProgramProcess.StartInfo(
            RepositoryPaths.ProgramAssembly("Candor.Collector", "Candor.Collector.dll"),
            ["--urls", "http://127.0.0.1:0", .. arguments ?? []], dataDirectory, variables);
        return new CollectorProcess(dataDirectory, await ListeningProcess.StartAsync(info, "The collector"));
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

    /// <summary>Stops the collector gracefully (SIGTERM) and waits for it to exit; killed after 30 s.</summary>
    public Task StopAsync() => _process.TerminateAsync(TimeSpan.FromSeconds(30));

    /// <summary>Kills the collector at once (SIGKILL): no shutdown, no drain, as in a crash or an OOM kill.</summary>
    public Task KillAsync() => _process.KillAsync();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _process.DisposeAsync();
    }
}
