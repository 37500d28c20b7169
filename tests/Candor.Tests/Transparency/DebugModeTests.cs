using System.Text.Json;
using Candor.Tests.Delivery;
using Candor.TestSupport;

namespace Candor.Tests.Transparency;

[Collection(ConsoleUsers.Name)]
public sealed class DebugModeTests
{
    [Fact]
    public async Task InDebugModeEachEventIsPrintedToStandardErrorAndNothingIsSentOrWritten()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        environment.Variables["ACME_TELEMETRY_DEBUG"] = "1";
        var error = new StringWriter();
        var original = Console.Error;
        Console.SetError(error);
        try
        {
            var client = TestClients.Create(TestClients.Options(collector.BaseAddress), environment);
            client.Track("command", new EventProperty("command", "run /home/alice/data.csv"));
            client.Dispose();
        }
        finally
        {
            Console.SetError(original);
        }

        Assert.Empty(collector.Requests);
        Assert.Empty(environment.Files());
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var printed = JsonDocument.Parse(line[line.IndexOf('{', StringComparison.Ordinal)..]);
        Assert.Equal("command", printed.RootElement.GetProperty("name").GetString());
        Assert.Equal("run <path>", printed.RootElement.GetProperty("properties").GetProperty("command").GetString());
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleUsers
{
    public const string Name = "Console";
}
