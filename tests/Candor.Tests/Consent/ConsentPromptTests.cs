using Candor.Consent;
using Candor.TestSupport;
using static Candor.Tests.Consent.ConsentPrecedenceTests;

namespace Candor.Tests.Consent;

/// <summary>The first-run question through the console seam.</summary>
public sealed class ConsentPromptTests
{
    [Theory]
    [InlineData("1", TelemetryLevel.Off)]
    [InlineData("2", TelemetryLevel.Local)]
    [InlineData("3", TelemetryLevel.Anonymous)]
    [InlineData(" 3 ", TelemetryLevel.Anonymous)]
    [InlineData("anonymous", TelemetryLevel.Anonymous)]
    [InlineData("off", TelemetryLevel.Off)]
    public void EachAnswerChoosesItsLevel(string typed, TelemetryLevel expected)
    {
        using var environment = new FakeEnvironment();
        environment.Type(typed);

        var answer = ConsentPrompt.Ask(environment, AcmeOptions());

        Assert.Equal(expected, answer.Level);
        Assert.False(answer.Quit);
        Assert.Contains("[1] off", environment.Error, StringComparison.Ordinal);
        Assert.Contains("[q] quit", environment.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void IdentifiedAsksForAnEmailOrUuidAndKeepsIt()
    {
        using var environment = new FakeEnvironment();
        environment.Type("4", "not an id", "ada@example.com");

        var answer = ConsentPrompt.Ask(environment, AcmeOptions());

        Assert.Equal(TelemetryLevel.Identified, answer.Level);
        Assert.Equal("ada@example.com", answer.UserId);
        Assert.Contains("neither an email address nor a UUID", environment.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void EndOfInputIsNoAnswer()
    {
        using var environment = new FakeEnvironment();

        var answer = ConsentPrompt.Ask(environment, AcmeOptions());

        Assert.Null(answer.Level);
        Assert.False(answer.Quit);
        Assert.Equal(1, environment.LinesRead);
        Assert.Contains("No answer", environment.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void EndOfInputWhileAskingForTheIdIsNoAnswer()
    {
        using var environment = new FakeEnvironment();
        environment.Type("4");

        var answer = ConsentPrompt.Ask(environment, AcmeOptions());

        Assert.Null(answer.Level);
    }

    [Fact]
    public void ThreeInvalidAnswersEndTheQuestionWithoutAnAnswer()
    {
        using var environment = new FakeEnvironment();
        environment.Type("yes", "", "5", "3");

        var answer = ConsentPrompt.Ask(environment, AcmeOptions());

        Assert.Null(answer.Level);
        Assert.Equal(3, environment.LinesRead);
        Assert.Equal(3, environment.Error.Split("Please answer 1, 2, 3, 4 or q.").Length - 1);
    }

    [Fact]
    public void AnInvalidAnswerIsAskedAgain()
    {
        using var environment = new FakeEnvironment();
        environment.Type("maybe", "2");

        var answer = ConsentPrompt.Ask(environment, AcmeOptions());

        Assert.Equal(TelemetryLevel.Local, answer.Level);
        Assert.Contains("Please answer 1, 2, 3, 4 or q.", environment.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void QuitIsReportedToTheHostAndNothingIsSaved()
    {
        using var environment = new FakeEnvironment();
        environment.Type("q");

        var decision = new ConsentResolver(AcmeOptions(ConsentPolicy.Prompt), environment).Resolve();

        Assert.True(decision.QuitRequested);
        Assert.Equal(TelemetryLevel.Off, decision.Level);
        Assert.False(File.Exists(environment.UserFile));
    }

    [Fact]
    public void GarbageAtTheFirstRunIsOffAndTheQuestionIsAskedAgainNextRun()
    {
        using var environment = new FakeEnvironment();
        var options = AcmeOptions(ConsentPolicy.Prompt);
        environment.Type("a", "b", "c");
        var first = new ConsentResolver(options, environment).Resolve();
        environment.Type("3");

        var second = new ConsentResolver(options, environment).Resolve();

        Assert.Equal(TelemetryLevel.Off, first.Level);
        Assert.Equal(TelemetryLevel.Anonymous, second.Level);
        Assert.Equal(4, environment.LinesRead);
    }

    [Fact]
    public void TheAnswerIsSavedWithTheNoticeVersionAndNotAskedAgain()
    {
        using var environment = new FakeEnvironment();
        var options = AcmeOptions(ConsentPolicy.Prompt, noticeVersion: 3);
        environment.Type("4", "0f8fad5b-d9cb-469f-a165-70867728950e");

        var first = new ConsentResolver(options, environment).Resolve();
        var second = new ConsentResolver(options, environment).Resolve();

        Assert.Equal(TelemetryLevel.Identified, first.Level);
        Assert.Equal("0f8fad5b-d9cb-469f-a165-70867728950e", first.UserId);
        Assert.Equal(TelemetryLevel.Identified, second.Level);
        Assert.Equal("user file", second.DecidedBy);
        Assert.Equal(first.InstallId, second.InstallId);
        Assert.Equal(2, environment.LinesRead);
        var saved = File.ReadAllText(environment.UserFile);
        Assert.Contains("level = \"identified\"", saved, StringComparison.Ordinal);
        Assert.Contains("notice_version = 3", saved, StringComparison.Ordinal);
    }

    [Fact]
    public void TheQuestionShowsTheAuthorsNoticeText()
    {
        using var environment = new FakeEnvironment();
        var options = AcmeOptions(ConsentPolicy.Prompt);
        options.NoticeText = "Acme counts which commands you run. Nothing else.";
        environment.Type("1");

        new ConsentResolver(options, environment).Resolve();

        Assert.Contains("Acme counts which commands you run. Nothing else.", environment.Error, StringComparison.Ordinal);
    }
}
