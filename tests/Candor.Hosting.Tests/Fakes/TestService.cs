using System.Collections.Concurrent;
using Candor.Platform;
using Candor.Protocol;
using Candor.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Candor.Hosting.Tests.Fakes;

/// <summary>
/// A generic-host service instrumented with Candor as an author would (<c>AddCandor</c> over the
/// <c>Candor</c> configuration section), in a <see cref="FakeEnvironment"/> (variables set by the test, a
/// temporary home) and with in-memory configuration the test can change and reload. The client sends
/// every 50 ms and gives a batch up after one failed attempt, so tests do not wait.
/// </summary>
internal sealed class TestService : IAsyncDisposable
{
    public const string Product = "acme-server";

    private TestService(IHost host, FakeEnvironment environment, RecordingLoggerProvider logs)
    {
        Host = host;
        Environment = environment;
        Logs = logs;
    }

    public IHost Host { get; }

    public FakeEnvironment Environment { get; }

    public RecordingLoggerProvider Logs { get; }

    public CandorTelemetry Telemetry => Host.Services.GetRequiredService<CandorTelemetry>();

    public IConfigurationRoot Configuration => (IConfigurationRoot)Host.Services.GetRequiredService<IConfiguration>();

    /// <summary>The default state directory of the service in the fake home.</summary>
    public string StateDirectory => Environment.Home.StateDirectory(Product);

    public string SpoolDirectory => Path.Combine(StateDirectory, "spool");

    public string[] SpoolFiles() => Directory.Exists(SpoolDirectory) ? Directory.GetFiles(SpoolDirectory, "*.batch.json") : [];

    /// <summary>Builds (does not start) a service sending to <paramref name="endpoint"/> with the given
    /// configuration (keys under <c>Candor:</c> unless they hold a colon already).</summary>
    public static TestService Build(FakeEnvironment environment, Uri? endpoint, IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null, Action<CandorServiceOptions>? configure = null)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = "Test",
        });
        var configuration = new Dictionary<string, string?>
        {
            ["Candor:ProductName"] = Product,
            ["Candor:ProductVersion"] = "1.2.3",
            ["Candor:Endpoint"] = endpoint?.ToString(),
            ["Candor:WriteKey"] = "wk_test",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key.Contains(':', StringComparison.Ordinal) ? key : "Candor:" + key] = value;
        }

        builder.Configuration.AddInMemoryCollection(configuration);
        var logs = new RecordingLoggerProvider();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.Services.AddSingleton<ICandorEnvironment>(environment);
        builder.Services.AddCandor(builder.Configuration.GetSection("Candor"), configure: options =>
        {
            options.ConfigureClient = client =>
            {
                client.BatchInterval = TimeSpan.FromMilliseconds(50);
                client.MaxAttempts = 1;
                client.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
                client.MaxRetryDelay = TimeSpan.FromMilliseconds(10);
                client.ConnectTimeout = TimeSpan.FromMilliseconds(500);
            };
            configure?.Invoke(options);
        });
        services?.Invoke(builder.Services);
        return new TestService(builder.Build(), environment, logs);
    }

    public Task StartAsync() => Host.StartAsync();

    public Task StopAsync() => Host.StopAsync();

    /// <summary>Sets configuration values (under <c>Candor:</c>) and reloads, as an operator's edit of
    /// <c>appsettings.json</c> does.</summary>
    public void Reload(string key, string? value)
    {
        Configuration["Candor:" + key] = value;
        Configuration.Reload();
    }

    public async ValueTask DisposeAsync()
    {
        if (Host is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
        else
        {
            Host.Dispose();
        }
    }

    /// <summary>Waits (real time) until <paramref name="condition"/> holds, at most <paramref name="timeout"/>
    /// (default 10 s); <paramref name="step"/> runs between polls (e.g. advancing a fake clock).</summary>
    public static async Task<bool> Eventually(Func<bool> condition, TimeSpan? timeout = null, Action? step = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            step?.Invoke();
            await Task.Delay(20);
        }

        return true;
    }

    /// <summary>An integer property of an event.</summary>
    public static long IntegerOf(TelemetryEvent telemetryEvent, string property) =>
        telemetryEvent.Properties![property].AsInteger;

    /// <summary>A string property of an event.</summary>
    public static string? StringOf(TelemetryEvent telemetryEvent, string property) =>
        telemetryEvent.Properties![property].AsString;
}

/// <summary>Keeps every log entry the service wrote, for assertions.</summary>
internal sealed class RecordingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public IEnumerable<string> Messages(LogLevel minimum = LogLevel.Trace) =>
        Entries.Where(e => e.Level >= minimum).Select(e => e.Message);

    private sealed class Logger(RecordingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider.Entries.Enqueue((category, logLevel, formatter(state, exception)));
    }
}
