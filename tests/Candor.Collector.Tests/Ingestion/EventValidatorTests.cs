using Candor.Collector.Enrichment;
using Candor.Collector.Ingestion;
using Candor.Collector.Schemas;
using Candor.Collector.Storage;
using Candor.Protocol;
using Candor.TestSupport;

namespace Candor.Collector.Tests.Ingestion;

/// <summary><see cref="EventValidator"/> on its own: each code it quarantines an event with, and what
/// an accepted event becomes.</summary>
#pragma warning disable CA1001 // Disposed through IAsyncLifetime, as xUnit does.
public sealed class EventValidatorTests : IAsyncLifetime
#pragma warning restore CA1001
{
    private static readonly DateTimeOffset Now = new(2026, 3, 14, 12, 0, 0, TimeSpan.Zero);
    private static readonly ClientFacts Facts = new("DE", "BE", "f00d");

    private readonly TemporaryDirectory _directory = new("candor-validator");
    private readonly CollectorOptions _options = new() { MaxStringLength = 64 };
    private SchemaRegistry _schemas = null!;

    public async Task InitializeAsync() => _schemas = await IngestSamples.SchemasAsync(_directory);

    public Task DisposeAsync()
    {
        _schemas.Dispose();
        _directory.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public void AnEventWithinEveryRuleBecomesARecordWithItsTimeCorrectedForTheClientsSkewAndTheClientFacts()
    {
        // The client's clock is an hour behind: it sent the batch at 11:00, the collector got it at 12:00.
        var e = IngestSamples.Command(Now.AddHours(-1).AddMinutes(-5));
        var batch = IngestSamples.Batch(Now.AddHours(-1), e);

        var outcome = Validator().Check(batch, e, Now, Facts);

        Assert.Null(outcome.Rejection);
        var record = Assert.IsType<EventRecord>(outcome.Event);
        Assert.Equal((e.Id, "acme", "command", "1-0-0"), (record.Id, record.Product, record.Name, record.SchemaVersion));
        Assert.Equal(Now.AddMinutes(-5), record.Time);
        Assert.Equal(Now, record.ReceivedAt);
        Assert.Equal((Facts.Country, Facts.Region, Facts.IpPseudonym), (record.Country, record.Region, record.IpPseudonym));
        Assert.Equal("run", record.Analytics.Subject);
        Assert.Contains("\"duration_ms\":12", record.PropertiesJson, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("no id")]
    [InlineData("no name")]
    [InlineData("no time")]
    [InlineData("null")]
    public void AnEventWithoutAnIdANameOrATimeIsAnInvalidEvent(string missing)
    {
        var e = IngestSamples.Command(Now);
        switch (missing)
        {
            case "no id": e.Id = Guid.Empty; break;
            case "no name": e.Name = " "; break;
            case "no time": e.Time = default; break;
        }

        var rejection = Reject(missing == "null" ? null : e);

        Assert.Equal(ErrorCodes.InvalidEvent, rejection.ReasonCode);
        Assert.Equal(missing is "no id" or "null" ? null : e.Id, rejection.EventId);
    }

    [Fact]
    public void ANameOrVersionOverTheLengthLimitIsStringTooLong()
    {
        var named = IngestSamples.Command(Now);
        named.Name = new string('n', 65);
        var versioned = IngestSamples.Command(Now);
        versioned.Version = new string('1', 65);

        Assert.Equal(ErrorCodes.StringTooLong, Reject(named).ReasonCode);
        Assert.Equal(ErrorCodes.StringTooLong, Reject(versioned).ReasonCode);
    }

    [Fact]
    public void ANulInTheNameOrAPropertyIsInvalidText()
    {
        var named = IngestSamples.Command(Now);
        named.Name = "com\0mand";

        Assert.Equal(ErrorCodes.InvalidText, Reject(named).ReasonCode);
        Assert.Equal(ErrorCodes.InvalidText, Reject(IngestSamples.Command(Now, command: "r\0un")).ReasonCode);
    }

    [Fact]
    public void AnEventWithNoRegisteredSchemaIsUnknownSchemaAndNamesTheSchemaItAskedFor()
    {
        var e = IngestSamples.Command(Now);
        e.Name = "deploy";
        e.Version = "2-0-0";

        var rejection = Reject(e);

        Assert.Equal(ErrorCodes.UnknownSchema, rejection.ReasonCode);
        Assert.Equal("acme/deploy/2-0-0", rejection.SchemaRef);
    }

    [Fact]
    public void APropertyValueOrKeyOverTheLengthLimitIsStringTooLong()
    {
        var longKey = IngestSamples.Command(Now);
        longKey.Properties![new string('k', 65)] = 1;

        Assert.Equal(ErrorCodes.StringTooLong, Reject(IngestSamples.Command(Now, command: new string('r', 65))).ReasonCode);
        Assert.Equal(ErrorCodes.StringTooLong, Reject(longKey).ReasonCode);
    }

    [Theory]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NaN)]
    public void ANumberThatIsNotFiniteIsNumberOutOfRange(double number)
    {
        var e = IngestSamples.Command(Now);
        e.Properties!["duration_ms"] = number;

        Assert.Equal(ErrorCodes.NumberOutOfRange, Reject(e).ReasonCode);
    }

    [Fact]
    public void APropertyTheSchemaDoesNotDeclareOrAValueItForbidsIsRefusedWithTheSchemasCode()
    {
        var undeclared = IngestSamples.Command(Now);
        undeclared.Properties!["path"] = "/home/dana";
        var negative = IngestSamples.Command(Now);
        negative.Properties!["duration_ms"] = -1;

        Assert.Equal(ErrorCodes.UndeclaredProperty, Reject(undeclared).ReasonCode);
        Assert.Equal(ErrorCodes.InvalidProperty, Reject(negative).ReasonCode);
    }

    [Fact]
    public void ATimeTooFarAheadOrBehindItsArrivalAfterSkewCorrectionIsRefused()
    {
        var ahead = IngestSamples.Command(Now + _options.MaxFutureSkew + TimeSpan.FromMinutes(1));
        var behind = IngestSamples.Command(Now - _options.MaxEventAge - TimeSpan.FromMinutes(1));

        Assert.Equal(ErrorCodes.TimeInFuture, Reject(ahead).ReasonCode);
        Assert.Equal(ErrorCodes.TimeTooOld, Reject(behind).ReasonCode);
    }

    [Fact]
    public void ACommandLongerThanAnalyticsCanGroupByIsStringTooLong()
    {
        var validator = new EventValidator(_schemas, new CollectorOptions { MaxStringLength = 1024 });
        var e = IngestSamples.Command(Now, command: new string('c', TextRules.MaxDimensionBytes + 1));

        var outcome = validator.Check(IngestSamples.Batch(Now, e), e, Now, Facts);

        Assert.Equal(ErrorCodes.StringTooLong, outcome.Rejection?.ReasonCode);
    }

    [Fact]
    public void ARejectionKeepsABoundedExcerptOfTheEventAndWhenItArrived()
    {
        var e = IngestSamples.Command(Now, command: new string('x', 5000));
        var validator = new EventValidator(_schemas, new CollectorOptions { MaxStringLength = 64, QuarantineEventChars = 256 });

        var rejection = validator.Check(IngestSamples.Batch(Now, e), e, Now, Facts).Rejection!;

        Assert.Equal(Now, rejection.ReceivedAt);
        Assert.Equal("acme", rejection.Product);
        Assert.True(rejection.EventJson!.Length <= 256, $"{rejection.EventJson.Length} characters kept");
    }

    private EventValidator Validator() => new(_schemas, _options);

    private QuarantineRecord Reject(TelemetryEvent? e)
    {
        var outcome = Validator().Check(IngestSamples.Batch(Now, e ?? IngestSamples.Command(Now)), e, Now, Facts);
        Assert.Null(outcome.Event);
        return Assert.IsType<QuarantineRecord>(outcome.Rejection);
    }
}
