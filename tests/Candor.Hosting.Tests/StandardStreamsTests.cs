using Candor.Hosting.Tests.Fakes;
using Candor.Protocol;
using Candor.TestSupport;

namespace Candor.Hosting.Tests;

/// <summary>Console redirection is process-wide: this test runs alone.</summary>
[CollectionDefinition(nameof(StandardStreamsTests), DisableParallelization = true)]
public sealed class StandardStreamsRunAlone;

/// <summary>A service has no terminal: nothing Candor does reaches standard output or standard error.</summary>
[Collection(nameof(StandardStreamsTests))]
public sealed class StandardStreamsTests
{
    [Fact]
    public async Task TheServiceWritesNothingToStandardOutputOrError()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        // What makes a tool write to standard error: its debug variable and an unknown value.
        environment.Variables["ACME_SERVER_TELEMETRY_DEBUG"] = "1";
        environment.Variables["ACME_SERVER_TELEMETRY"] = "sometimes";
        var (output, error) = (Console.Out, Console.Error);
        using var capturedOutput = new StringWriter();
        using var capturedError = new StringWriter();
        Console.SetOut(capturedOutput);
        Console.SetError(capturedError);
        try
        {
            await using var service = TestService.Build(environment, collector.BaseAddress, new Dictionary<string, string?> { ["DefaultPolicy"] = "OptOut" });
            await service.StartAsync();
            service.Telemetry.Track("undeclared");
            service.Telemetry.TrackError(new InvalidOperationException("boom"), "E1");
            await service.StopAsync();
        }
        finally
        {
            Console.SetOut(output);
            Console.SetError(error);
        }

        Assert.Equal("", capturedOutput.ToString());
        Assert.Equal("", capturedError.ToString());
        Assert.Contains(collector.Events, e => e.Name == EventConventions.ErrorEvent);
    }
}
