using Candor.Rights;

namespace Candor.Tests.Rights;

public sealed class RightsAnswerTests
{
    [Theory]
    [InlineData(200, """{"status":"forgotten","events":3,"quarantine":1}""", "confirmed")]
    [InlineData(200, """{"status":"already_forgotten","events":0,"quarantine":0}""", "confirmed")]
    [InlineData(404, """{"code":"unknown_install","message":"nothing held"}""", "confirmed")]
    [InlineData(404, """{"code":"not_found","message":"no such path"}""", "refused")]
    [InlineData(404, "", "refused")]
    [InlineData(401, """{"code":"invalid_write_key","message":"no"}""", "refused")]
    [InlineData(400, """{"code":"invalid_install_id","message":"no"}""", "refused")]
    [InlineData(429, "", "retry")]
    [InlineData(408, "", "retry")]
    [InlineData(500, "not json", "retry")]
    [InlineData(503, "", "retry")]
    [InlineData(0, "", "retry")]
    public void OnlyADeletionOrAnUnknownInstallConfirmsAForget(int status, string body, string outcome) =>
        Assert.Equal(outcome, new RightsAnswer(status, body, null, status == 0 ? "connection refused" : null).ForgetOutcome.ToString().ToLowerInvariant());

    [Fact]
    public void AnAnswerReadsInOneLine()
    {
        Assert.Equal("401 invalid_write_key: The write key is not valid.",
            new RightsAnswer(401, """{"code":"invalid_write_key","message":"The write key is not valid."}""", null, null).Describe());
        Assert.Equal("503", new RightsAnswer(503, "<html>", null, null).Describe());
        Assert.Equal("connection refused", RightsAnswer.Failed("connection refused").Describe());
        Assert.Equal(("forgotten", 3L, 1L), new RightsAnswer(200, """{"status":"forgotten","events":3,"quarantine":1}""", null, null).Forgotten());
    }

    [Fact]
    public void TheBodyNamesTheProductAndTheInstallInSnakeCase() =>
        Assert.Equal("""{"product":"acme","install_id":"0f8fad5b-d9cb-469f-a165-70867728950e"}""",
            System.Text.Encoding.UTF8.GetString(RightsRequest.Body("acme", Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e"))));

    [Fact]
    public void ThePrivacyPageIsAtTheCollectorsOrigin()
    {
        Assert.Equal("https://telemetry.example.com/privacy/acme", RightsRequest.PrivacyPage(new Uri("https://telemetry.example.com/"), "acme").ToString());
        Assert.Equal("https://telemetry.example.com/privacy/acme", RightsRequest.PrivacyPage(new Uri("https://telemetry.example.com/base/"), "acme").ToString());
    }
}
