using System.Collections.Frozen;

namespace Candor.Collector.Schemas;

/// <summary>
/// The event schemas the collector accepts, loaded from
/// <c>&lt;SchemaDirectory&gt;/&lt;product&gt;/&lt;event-name&gt;/&lt;MODEL-REVISION-ADDITION&gt;.json</c>
/// at startup and again whenever a file there changes. A file that does not parse is logged and
/// skipped; the others stay in force. Lookups read an immutable snapshot, so a reload never blocks ingest.
/// </summary>
internal sealed partial class SchemaRegistry : IDisposable
{
    private readonly string _directory;
    private readonly ILogger<SchemaRegistry> _logger;
    private readonly FileSystemWatcher? _watcher;
    private readonly Timer _debounce;
    private readonly SemaphoreSlim _reloadGate = new(1, 1);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, EventSchema> _registered = new(StringComparer.Ordinal);
    private volatile FrozenDictionary<(string Product, string Name), EventSchema[]> _schemas =
        FrozenDictionary<(string Product, string Name), EventSchema[]>.Empty;

    public SchemaRegistry(CollectorOptions options, ILogger<SchemaRegistry> logger)
    {
        _directory = Path.GetFullPath(options.SchemaDirectory);
        _logger = logger;
        _debounce = new Timer(_ => _ = ReloadAsync(), null, Timeout.Infinite, Timeout.Infinite);
        if (Directory.Exists(_directory))
        {
            // No filter: a new product or event folder must trigger a reload too, since a file
            // written into it before its watch exists raises no event of its own.
            _watcher = new FileSystemWatcher(_directory)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            };
            _watcher.Changed += OnChanged;
            _watcher.Created += OnChanged;
            _watcher.Deleted += OnChanged;
            _watcher.Renamed += OnChanged;
            _watcher.EnableRaisingEvents = true;
        }
    }

    /// <summary>Raised after every reload, with the number of schemas in force.</summary>
    public event Action<int>? Reloaded;

    public int Count => _schemas.Values.Sum(v => v.Length);

    /// <summary>Every schema in force for a product: by event name, each name's versions oldest first (the privacy page).</summary>
    public IReadOnlyList<EventSchema> ForProduct(string product) =>
        [.. _schemas.Where(p => string.Equals(p.Key.Product, product, StringComparison.Ordinal)).OrderBy(p => p.Key.Name, StringComparer.Ordinal).SelectMany(p => p.Value)];

    /// <summary>The schema for an event; with no version, the newest one the collector knows for the name.</summary>
    public EventSchema? Find(string product, string name, string? version)
    {
        if (!_schemas.TryGetValue((product, name), out var versions))
        {
            return null;
        }

        if (version is null)
        {
            return versions[^1];
        }

        if (!SchemaVersion.TryParse(version, out var wanted))
        {
            return null;
        }

        foreach (var schema in versions)
        {
            if (schema.Version == wanted)
            {
                return schema;
            }
        }

        return null;
    }

    /// <summary>Adds schemas that live in memory, not in the schema directory (the demo's catalog), and
    /// keeps them through reloads. A file in the directory for the same product, event and version wins.</summary>
    public async Task RegisterAsync(string product, IEnumerable<(string Name, string Version, string Json)> schemas)
    {
        foreach (var (name, version, json) in schemas)
        {
            if (!SchemaVersion.TryParse(version, out var parsed))
            {
                throw new ArgumentException($"'{version}' is not a MODEL-REVISION-ADDITION version.", nameof(schemas));
            }

            var schema = await EventSchema.LoadAsync(product, name, parsed, json);
            _registered[schema.Reference] = schema;
        }

        await ReloadAsync();
    }

    public async Task ReloadAsync()
    {
        await _reloadGate.WaitAsync();
        try
        {
            var loaded = new Dictionary<(string, string), List<EventSchema>>();
            if (Directory.Exists(_directory))
            {
                foreach (var file in Directory.EnumerateFiles(_directory, "*.json", SearchOption.AllDirectories))
                {
                    var relative = Path.GetRelativePath(_directory, file).Split(Path.DirectorySeparatorChar);
                    if (relative.Length != 3 || !SchemaVersion.TryParse(Path.GetFileNameWithoutExtension(relative[2]), out var version))
                    {
                        LogIgnored(_logger, file, "not laid out as <product>/<event-name>/<MODEL-REVISION-ADDITION>.json");
                        continue;
                    }

                    try
                    {
                        var schema = await EventSchema.LoadAsync(relative[0], relative[1], version, await File.ReadAllTextAsync(file));
                        var key = (relative[0], relative[1]);
                        if (!loaded.TryGetValue(key, out var list))
                        {
                            loaded[key] = list = [];
                        }

                        list.Add(schema);
                    }
                    catch (Exception ex) when (ex is IOException or InvalidDataException or Newtonsoft.Json.JsonException or UnauthorizedAccessException or InvalidOperationException)
                    {
                        LogIgnored(_logger, file, ex.Message);
                    }
                }
            }
            else
            {
                LogMissingDirectory(_logger, _directory);
            }

            foreach (var schema in _registered.Values)
            {
                var key = (schema.Product, schema.Name);
                if (!loaded.TryGetValue(key, out var list))
                {
                    loaded[key] = list = [];
                }

                if (!list.Exists(s => s.Version == schema.Version))
                {
                    list.Add(schema);
                }
            }

            _schemas = loaded.ToFrozenDictionary(p => p.Key, p => p.Value.OrderBy(s => s.Version).ToArray());
            LogLoaded(_logger, Count, _directory);
            Reloaded?.Invoke(Count);
        }
        finally
        {
            _reloadGate.Release();
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _debounce.Dispose();
        _reloadGate.Dispose();
    }

    // Editors write a file in several steps; reload once they are done.
    private void OnChanged(object sender, FileSystemEventArgs e) => _debounce.Change(200, Timeout.Infinite);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Count} event schemas from {Directory}")]
    private static partial void LogLoaded(ILogger logger, int count, string directory);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ignored schema file {File}: {Reason}")]
    private static partial void LogIgnored(ILogger logger, string file, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The schema directory {Directory} does not exist: every event will be rejected as unknown_schema")]
    private static partial void LogMissingDirectory(ILogger logger, string directory);
}

/// <summary>Loads the schemas before the server listens.</summary>
internal sealed class SchemaRegistryLoader(SchemaRegistry registry) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => registry.ReloadAsync();

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
