using System.Diagnostics;
using System.Text;
using Candor.TestSupport;

namespace Candor.EndToEnd.Tests;

/// <summary>The first-run question on the real <c>acme</c> in a real pseudo-terminal: <c>script</c>
/// (util-linux) gives acme a terminal for standard input and standard error, and the test types
/// into it once the question is on screen.</summary>
public sealed class ConsentTerminalTests
{
    private static readonly string AcmeAssembly = RepositoryPaths.ProgramAssembly("Acme.Cli", "acme.dll");

    [Fact]
    public async Task UnderThePromptPolicyTheFirstInteractiveRunAsksAndTheAnswerDecidesAndIsSaved()
    {
        using var data = new TemporaryDirectory();
        using var home = new TemporaryHome();
        await using var collector = await CollectorProcess.StartAsync(data.Path);
        var environment = ConsentTests.AcmeEnvironment(collector.BaseAddress, home.Path, new()
        {
            ["ACME_TELEMETRY_POLICY"] = "prompt",
            ["TERM"] = "dumb",
        });
        var info = ProgramProcess.StartInfo(AcmeAssembly, [], home.Path, environment);
        info.FileName = "script";
        info.ArgumentList.Clear();
        foreach (var argument in new[] { "--quiet", "--return", "--flush", "--command", $"dotnet '{AcmeAssembly}' run --pipeline tty", "/dev/null" })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = info };
        var screen = new StringBuilder();
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.Start();
        var reading = Task.Run(async () =>
        {
            var buffer = new char[1024];
            int read;
            while ((read = await process.StandardOutput.ReadAsync(buffer)) > 0)
            {
                lock (screen)
                {
                    screen.Append(buffer, 0, read);
                    if (screen.ToString().Contains("Choice [1-4, q]:", StringComparison.Ordinal))
                    {
                        asked.TrySetResult();
                    }
                }
            }
        });

        await asked.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await process.StandardInput.WriteAsync("3\r");
        await process.StandardInput.FlushAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        process.StandardInput.Close();
        await reading.WaitAsync(TimeSpan.FromSeconds(10));

        var output = screen.ToString();
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("[3] anonymous", output, StringComparison.Ordinal);
        Assert.Contains("Ran pipeline 'tty'", output, StringComparison.Ordinal);
        var saved = await File.ReadAllTextAsync(ConsentTests.UserFile(home.Path));
        Assert.Contains("level = \"anonymous\"", saved, StringComparison.Ordinal);
        var stored = Assert.Single(await collector.ReadEventsAsync());
        Assert.Contains($"install_id = \"{stored.GetProperty("context").GetProperty("install_id").GetString()}\"", saved, StringComparison.Ordinal);
    }
}
