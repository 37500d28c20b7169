using Candor.Redaction;

namespace Candor.Tests.Redaction;

public sealed class CommandMaskingTests
{
    private static readonly string[] Known = ["run", "new", "telemetry", "status", "--pipeline", "-p", "--env", "--verbose", "/config"];

    [Theory]
    [InlineData("run --pipeline nightly --env prod", "run --pipeline ***** --env *****")]
    [InlineData("run -p nightly", "run -p *****")]
    [InlineData("run --pipeline=nightly", "run --pipeline=*****")]
    [InlineData("run --pipeline:nightly", "run --pipeline:*****")]
    [InlineData("run /config:C:\\secret.toml", "run /config:*****")]
    [InlineData("run --verbose", "run --verbose")]
    [InlineData("run --unknown-flag value", "run ***** *****")]
    [InlineData("run --token=ghp_abc", "run *****")]
    [InlineData("new my-secret-project", "new *****")]
    [InlineData("telemetry status", "telemetry status")]
    [InlineData("run -- --pipeline run", "run -- ***** *****")]
    [InlineData("run @response.rsp", "run *****")]
    [InlineData("/home/alice/file.txt", "*****")]
    [InlineData("RUN", "*****")]
    [InlineData("", "")]
    public void ValuesAndUnknownTokensAreMaskedAndDeclaredNamesKept(string commandLine, string expected)
    {
        var tokens = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(expected, CommandMasking.MaskArguments(tokens, Known));
    }
}
