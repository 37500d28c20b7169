using Candor.Hosting.Tests.Fakes;
using Candor.Protocol;
using Candor.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Candor.Hosting.Tests;

/// <summary>Consent for services: variables and configuration decide before anything is recorded, and
/// telemetry that is off leaves no trace at all (issue 23, acceptance 2, in process).</summary>
public sealed class ServiceConsentTests
{
    [Theory]
    [InlineData("DO_NOT_TRACK", "1")]
    [InlineData("ACME_SERVER_TELEMETRY", "off")]
    [InlineData("ACME_SERVER_TELEMETRY", "0")]
    [InlineData("ACME_SERVER_TELEMETRY", "false")]
    public async Task AVariableSetToOffBeforeLaunchMeansNoConnectionAndNoFile(string variable, string value)
    {
        await using var collector = new FaultyServer(Fault.ServerError);
        using var environment = new FakeEnvironment();
        environment.Variables[variable] = value;
        await using var service = TestService.Build(environment, collector.BaseAddress, new Dictionary<string, string?> { ["Telemetry"] = "anonymous" });

        await service.StartAsync();
        service.Telemetry.Track(EventConventions.HeartbeatEvent, new(EventConventions.UptimeSeconds, 1), new(EventConventions.HeartbeatIntervalSeconds, 1));
        service.Telemetry.TrackError(new InvalidOperationException("nope"));
        await Task.Delay(200);
        await service.StopAsync();

        Assert.Equal(TelemetryLevel.Off, service.Telemetry.Level);
        Assert.False(service.Telemetry.IsEnabled(TelemetryPart.Lifecycle));
        Assert.Null(service.Telemetry.Client);
        Assert.Equal(0, collector.Connections);
        Assert.Empty(environment.Files());
        Assert.False(Directory.Exists(service.StateDirectory));
    }

    [Fact]
    public async Task TheVariableIsStrongerThanConfigurationAndConfigurationStrongerThanThePolicy()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        environment.Variables["ACME_SERVER_TELEMETRY"] = "anonymous";
        await using (var service = TestService.Build(environment, collector.BaseAddress, new Dictionary<string, string?> { ["Telemetry"] = "off" }))
        {
            await service.StartAsync();
            Assert.Equal(TelemetryLevel.Anonymous, service.Telemetry.Level);
            await service.StopAsync();
        }

        environment.Variables.Clear();
        await using (var service = TestService.Build(environment, collector.BaseAddress,
            new Dictionary<string, string?> { ["Telemetry"] = "off", ["DefaultPolicy"] = "OptOut" }))
        {
            await service.StartAsync();
            Assert.Equal(TelemetryLevel.Off, service.Telemetry.Level);
            await service.StopAsync();
        }

        await using (var service = TestService.Build(environment, collector.BaseAddress, new Dictionary<string, string?> { ["DefaultPolicy"] = "OptOut" }))
        {
            await service.StartAsync();
            Assert.Equal(TelemetryLevel.Anonymous, service.Telemetry.Level);
            Assert.Contains(service.Logs.Messages(LogLevel.Information), m =>
                m.Contains("ACME_SERVER_TELEMETRY=off", StringComparison.Ordinal) && m.Contains("DO_NOT_TRACK=1", StringComparison.Ordinal)
                && m.Contains("Candor:Telemetry", StringComparison.Ordinal));
            await service.StopAsync();
        }
    }

    [Fact]
    public async Task InstallIsSentOnceAcrossRunsThatShareTheStateDirectory()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var settings = new Dictionary<string, string?> { ["Telemetry"] = "anonymous" };
        for (var run = 0; run < 2; run++)
        {
            await using var service = TestService.Build(environment, collector.BaseAddress, settings);
            await service.StartAsync();
            await service.StopAsync();
        }

        Assert.Single(collector.Events, e => e.Name == EventConventions.InstallEvent);
        Assert.Equal(2, collector.Events.Count(e => e.Name == EventConventions.StartupEvent));
        var contexts = collector.Requests.Select(r => r.Batch.Context).ToList();
        Assert.Single(contexts.Select(c => c.InstallId).Distinct());
        Assert.All(contexts, c => Assert.Equal("1.2.3", c.InitialVersion));
        Assert.All(contexts, c => Assert.False(c.InstallIdPerProcess));
        var identity = File.ReadAllText(Path.Combine(environment.Home.StateDirectory(TestService.Product), "telemetry.toml"));
        Assert.Contains($"install_id = \"{contexts[0].InstallId}\"", identity, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStateDirectoryThatCannotBeCreatedMeansAPerProcessIdNoInstallAndNoFiles()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        using var temporary = new TemporaryDirectory();
        var blocker = temporary.Combine("not-a-directory");
        File.WriteAllText(blocker, "");
        await using var service = TestService.Build(environment, collector.BaseAddress,
            new Dictionary<string, string?> { ["Telemetry"] = "anonymous", ["StateDirectory"] = Path.Combine(blocker, "state") });

        await service.StartAsync();
        var client = service.Telemetry.Client!;
        Assert.True(await TestService.Eventually(() => collector.Events.Any(e => e.Name == EventConventions.StartupEvent)));
        service.Reload("Telemetry", "off");
        service.Reload("Telemetry", "anonymous");
        var raised = service.Telemetry.Client!;
        await service.StopAsync();

        Assert.True(client.Context.InstallIdPerProcess);
        Assert.Equal(client.Context.InstallId, raised.Context.InstallId);
        Assert.NotNull(client.Context.InstallId);
        Assert.Null(client.Context.InitialVersion);
        Assert.Contains(collector.Events, e => e.Name == EventConventions.StartupEvent);
        Assert.DoesNotContain(collector.Events, e => e.Name == EventConventions.InstallEvent);
        Assert.Single(service.Logs.Messages(LogLevel.Warning), m => m.Contains("for this process only", StringComparison.Ordinal));
        Assert.Equal(["not-a-directory"], Directory.GetFileSystemEntries(temporary.Path).Select(Path.GetFileName));
        Assert.Empty(environment.Files());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AReadOnlyStateDirectoryMeansAPerProcessIdInTheSentContextAndNoFiles(bool holdsAnInstallId)
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        using var state = holdsAnInstallId
            ? new ReadOnlyDirectory(("telemetry.toml", $"install_id = \"{Guid.NewGuid()}\"\n"))
            : new ReadOnlyDirectory();
        Assert.True(state.IsReadOnly, "this machine cannot make a directory read-only for the tests (neither mode 0555 nor chattr +i)");
        var before = state.Entries();
        await using var service = TestService.Build(environment, collector.BaseAddress,
            new Dictionary<string, string?> { ["Telemetry"] = "anonymous", ["StateDirectory"] = state.Path });

        await service.StartAsync();
        var client = service.Telemetry.Client!;
        await service.StopAsync();

        Assert.True(client.Context.InstallIdPerProcess);
        Assert.Contains(collector.Events, e => e.Name == EventConventions.StartupEvent);
        Assert.DoesNotContain(collector.Events, e => e.Name == EventConventions.InstallEvent);
        Assert.Equal(before, state.Entries());
        Assert.Single(service.Logs.Messages(LogLevel.Warning), m => m.Contains("for this process only", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheSdksOwnDiagnosticsReachTheServiceLog()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        await using var service = TestService.Build(environment, collector.BaseAddress, new Dictionary<string, string?> { ["Telemetry"] = "anonymous" });
        await service.StartAsync();

        service.Telemetry.Track("not_in_the_catalog");
        await service.StopAsync();

        Assert.Contains(service.Logs.Entries, e => e.Category == typeof(CandorTelemetry).FullName && e.Level == LogLevel.Warning
            && e.Message.Contains("'not_in_the_catalog' is not declared", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RequestsGoThroughTheContainersHttpClientFactoryWhenItHasOne()
    {
        await using var collector = await LoopbackCollector.StartAsync();
        using var environment = new FakeEnvironment();
        var counting = new CountingHandler();
        await using var service = TestService.Build(environment, collector.BaseAddress, new Dictionary<string, string?> { ["Telemetry"] = "anonymous" },
            services => services.AddHttpClient(CandorServiceCollectionExtensions.HttpClientName).AddHttpMessageHandler(() => counting));

        await service.StartAsync();
        await service.StopAsync();

        Assert.Contains(collector.Events, e => e.Name == EventConventions.StartupEvent);
        Assert.True(counting.Requests > 0);
    }

    private sealed class CountingHandler : DelegatingHandler
    {
        private int _requests;

        public int Requests => Volatile.Read(ref _requests);

        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            return base.Send(request, cancellationToken);
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
