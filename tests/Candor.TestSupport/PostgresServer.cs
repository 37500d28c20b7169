using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Candor.TestSupport;

/// <summary>
/// A throwaway PostgreSQL cluster for tests: <c>initdb</c> into a fresh temp directory, the server on
/// a free loopback port with its socket in that directory, stopped and deleted on dispose. It uses
/// Debian's binaries (<c>/usr/lib/postgresql/&lt;version&gt;/bin</c>, installed by <c>test.sh</c>) or
/// <c>pg_ctl</c> on the PATH. PostgreSQL refuses to run as root, so under root the cluster belongs to
/// the <c>postgres</c> user and every command runs through <c>runuser</c>. A missing PostgreSQL is an
/// error, never a silent skip.
/// </summary>
internal sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _directory;
    private readonly bool _asPostgresUser;

    private PostgresServer(string bin, string directory, int port, bool asPostgresUser)
    {
        _bin = bin;
        _directory = directory;
        Port = port;
        _asPostgresUser = asPostgresUser;
    }

    public int Port { get; }

    /// <summary>A connection string for a database; <see cref="CreateDatabaseAsync"/> makes new ones.</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true;Maximum Pool Size=20";

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinaries();
        var asPostgresUser = Environment.UserName == "root";
        var directory = Path.Combine(Path.GetTempPath(), "candor-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        if (asPostgresUser)
        {
            await RunAsync("chown", ["postgres:postgres", directory], asPostgresUser: false);
        }

        var data = Path.Combine(directory, "data");
        var server = new PostgresServer(bin, directory, FreePort(), asPostgresUser);
        await server.RunToolAsync("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
        await server.RunToolAsync("pg_ctl", ["-D", data, "-l", Path.Combine(directory, "server.log"), "-w", "-t", "60",
            "-o", $"-p {server.Port} -k {directory} -c listen_addresses=127.0.0.1 -c max_connections=100 -c shared_buffers=64MB", "start"]);
        return server;
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "candor_" + Guid.NewGuid().ToString("N")[..12];
        await RunToolAsync("createdb", ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres", name]);
        return ConnectionString(name);
    }

    /// <summary>The database named in a connection string made by this class.</summary>
    public static string DatabaseOf(string connectionString) =>
        connectionString.Split(';').Single(part => part.StartsWith("Database=", StringComparison.Ordinal))["Database=".Length..];

    /// <summary>Runs SQL through <c>psql</c> and returns its unaligned output.</summary>
    public async Task<string> QueryAsync(string connectionDatabase, string sql) =>
        await RunToolAsync("psql", ["-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", "postgres",
            "-d", connectionDatabase, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql]);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunToolAsync("pg_ctl", ["-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private Task<string> RunToolAsync(string tool, IReadOnlyList<string> arguments)
    {
        var path = Path.Combine(_bin, tool);
        return _asPostgresUser
            ? RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments], asPostgresUser: true)
            : RunAsync(path, arguments, asPostgresUser: false);
    }

    private static async Task<string> RunAsync(string program, IReadOnlyList<string> arguments, bool asPostgresUser)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // runuser keeps the working directory, which postgres may not be allowed to enter.
            WorkingDirectory = asPostgresUser ? "/" : Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await stderr}{await stdout}");
        }

        return (await stdout).Trim();
    }

    private static string FindBinaries()
    {
        const string Debian = "/usr/lib/postgresql";
        if (Directory.Exists(Debian))
        {
            var newest = Directory.GetDirectories(Debian)
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (File.Exists(Path.Combine(directory, "pg_ctl")))
            {
                return directory;
            }
        }

        throw new InvalidOperationException("PostgreSQL is not installed (no pg_ctl in /usr/lib/postgresql/*/bin or on PATH); run ./test.sh, which installs it.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
