using System.Runtime.InteropServices;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>
/// acme ships as a Native AOT .NET tool (RID-specific tool packages): packed, installed with
/// <c>dotnet tool install</c> as its users would, the installed <c>acme</c> is a native executable,
/// and its telemetry reaches the real collector. Packing compiles acme ahead of time, which also
/// proves Candor publishes with Native AOT without warnings (the build treats warnings as errors).
/// </summary>
[Collection(nameof(AcmeNativeToolTests))]
public sealed class AcmeNativeToolTests
{
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task ThePackedToolInstallsAsANativeExecutableThatDeliversItsCommandEvent()
    {
        using var work = new TemporaryDirectory();
        var packages = Path.Combine(work.Path, "packages");
        var project = Path.Combine(RepositoryPaths.Root, "samples", "Acme.Cli");
        var rid = RuntimeInformation.RuntimeIdentifier;
        await DotnetAsync(work.Path, [], "pack", project, "-c", "Release", "-o", packages, "-nologo", "-v:quiet");
        await DotnetAsync(work.Path, [], "pack", project, "-c", "Release", "-r", rid, "-o", packages, "-nologo", "-v:quiet");
        Assert.True(File.Exists(Path.Combine(packages, "acme.1.4.0.nupkg")), "the pointer package");
        Assert.True(File.Exists(Path.Combine(packages, $"acme.{rid}.1.4.0.nupkg")), "the native package");

        // Installed through its own package folder: an acme 1.4.0 installed before must not stand in for this build.
        var tools = Path.Combine(work.Path, "tools");
        await DotnetAsync(work.Path, new() { ["NUGET_PACKAGES"] = Path.Combine(work.Path, "nuget") },
            "tool", "install", "acme", "--tool-path", tools, "--add-source", packages);

        var installed = new FileInfo(Path.Combine(tools, OperatingSystem.IsWindows() ? "acme.exe" : "acme"));
        var executable = installed.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? installed.FullName;
        Assert.True(IsNativeExecutable(executable), $"{executable} is not a native executable");
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(executable)!, "*.dll"));

        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        var environment = home.Variables();
        environment["ACME_TELEMETRY_ENDPOINT"] = collector.BaseAddress.ToString();
        environment["ACME_TELEMETRY_WRITE_KEY"] = CollectorProcess.WriteKey;
        environment["ACME_TELEMETRY"] = "anonymous";
        environment["ACME_FLUSH_MS"] = "5000";
        var result = await ProgramProcess.RunAsync(installed.FullName, ["run", "--pipeline", "native"], home.Path, environment);

        Assert.Equal(0, result.ExitCode);
        var stored = Assert.Single(await collector.ReadEventsAsync());
        Assert.Equal("run", stored.GetProperty("properties").GetProperty("command").GetString());
        Assert.Equal("1.4.0", stored.GetProperty("context").GetProperty("product_version").GetString());
    }

    /// <summary>ELF (Linux), Mach-O (macOS) or PE (Windows) magic, not a managed assembly beside a host.</summary>
    private static bool IsNativeExecutable(string path)
    {
        var head = new byte[4];
        using (var file = File.OpenRead(path))
        {
            file.ReadExactly(head);
        }

        return head is [0x7F, (byte)'E', (byte)'L', (byte)'F'] or [0xCF, 0xFA, 0xED, 0xFE] or [(byte)'M', (byte)'Z', _, _];
    }

    private static async Task DotnetAsync(string workingDirectory, Dictionary<string, string?> environment, params string[] arguments)
    {
        environment["DOTNET_NOLOGO"] = "1";
        var result = await ProgramProcess.RunAsync("dotnet", arguments, workingDirectory, environment, PackTimeout);
        Assert.True(result.ExitCode == 0, $"dotnet {string.Join(' ', arguments)} exited with {result.ExitCode}:\n{result.StandardOutput}\n{result.StandardError}");
    }
}

/// <summary>Ahead-of-time compilation takes both cores for a minute: run it alone, not beside the
/// tests that time how fast acme exits.</summary>
[CollectionDefinition(nameof(AcmeNativeToolTests), DisableParallelization = true)]
public sealed class AcmeNativeToolRunsAlone;
