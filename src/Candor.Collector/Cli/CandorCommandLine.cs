using System.CommandLine;

namespace Candor.Collector.Cli;

/// <summary>
/// The collector executable doubles as the <c>candor</c> command: <c>serve</c> (the default),
/// <c>report</c> and <c>export</c>. Unrecognised options of <c>serve</c> pass through to ASP.NET
/// configuration (<c>--urls</c>, <c>--Candor:Key=value</c>).
/// </summary>
internal static class CandorCommandLine
{
    public static RootCommand Build()
    {
        var database = new Option<string?>("--database") { Description = "The DuckDB file. Default: from the collector's configuration (candor-data/candor.duckdb)." };
        var demo = new Option<bool>("--demo") { Description = "Fill an empty store with realistic demo traffic sent through the Candor client SDK." };

        var serve = new Command("serve", "Run the collector and its dashboard (the default).") { demo };
        serve.TreatUnmatchedTokensAsErrors = false;
        serve.SetAction((parseResult, _) => ServeAsync(parseResult.UnmatchedTokens, parseResult.GetValue(demo)));

        var root = new RootCommand("Candor: consent-first usage telemetry for .NET tools. The collector, its dashboard and reports.")
        {
            serve,
            ReportCommand.Build(database),
            ExportCommand.Build(database),
        };
        root.Options.Add(demo);
        root.TreatUnmatchedTokensAsErrors = false;
        root.SetAction((parseResult, _) =>
        {
            if (parseResult.UnmatchedTokens.Count > 0 && parseResult.UnmatchedTokens[0] is var unknown && !unknown.StartsWith('-'))
            {
                parseResult.InvocationConfiguration.Error.WriteLine($"Unknown command '{unknown}'. Try 'candor --help'.");
                return Task.FromResult(2);
            }

            return ServeAsync(parseResult.UnmatchedTokens, parseResult.GetValue(demo));
        });
        return root;
    }

    private static async Task<int> ServeAsync(IReadOnlyList<string> aspNetArguments, bool demo)
    {
        await using var app = CollectorApp.Build([.. aspNetArguments]);
        if (demo)
        {
            Demo.DemoTraffic.RunWhenStarted(app);
        }

        try
        {
            await app.RunAsync();
        }
        catch (IOException ex) when (ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            // The commonest first-run failure: one line that says what to do, not a stack trace.
            await Console.Error.WriteLineAsync($"candor: {ex.Message} Stop what listens there, or choose another address, e.g. --urls http://localhost:5081");
            return 2;
        }

        return 0;
    }
}
