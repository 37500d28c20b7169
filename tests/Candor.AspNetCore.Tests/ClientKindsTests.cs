namespace Candor.AspNetCore.Tests;

/// <summary>The two tokens read from a request's headers, and nothing more.</summary>
public sealed class ClientKindsTests
{
    [Theory]
    [InlineData("curl/8.5.0", "curl/8")]
    [InlineData("python-requests/2.31", "python-requests/2")]
    [InlineData("Go-http-client/1.1", "go-http-client/1")]
    [InlineData("okhttp/4.12.0", "okhttp/4")]
    [InlineData("PostmanRuntime/7.36.0", "postmanruntime/7")]
    [InlineData("acme-cli/12.0.1 (linux; x64) dotnet/10.0", "acme-cli/12")]
    [InlineData("Wget/1.21.4 s3cr3t", "wget/1")]
    [InlineData("my.bot_v2", "my.bot_v2")]
    [InlineData("tool/v3", "tool")]
    [InlineData("  curl/7.1  ", "curl/7")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "chrome")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", "edge")]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "firefox")]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15", "safari")]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0 Mobile/15E148 Safari/604.1", "chrome")]
    [InlineData("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "other")]
    [InlineData("", "none")]
    [InlineData("   ", "none")]
    [InlineData("/1.0", "other")]
    [InlineData("naïve/1.0", "other")]
    [InlineData("a+b/1.0", "other")]
    [InlineData("user@example.com/1", "other")]
    public void TheClientKindIsTheFirstProductWithItsMajorVersionOrABrowserFamily(string userAgent, string expected)
    {
        Span<char> buffer = stackalloc char[ClientKinds.BufferLength];
        Assert.Equal(expected, buffer[..ClientKinds.Client(userAgent, buffer)].ToString());
    }

    [Fact]
    public void AClientKindIsAtMost64CharactersOfLowerCaseLettersDigitsDotsUnderscoresAndDashes()
    {
        Span<char> buffer = stackalloc char[ClientKinds.BufferLength];
        var longest = new string('a', 62) + "/9";
        Assert.Equal(longest, buffer[..ClientKinds.Client(longest + ".1", buffer)].ToString());
        Assert.Equal("other", buffer[..ClientKinds.Client(new string('a', 63) + "/9", buffer)].ToString());
        Assert.Equal("other", buffer[..ClientKinds.Client(new string('a', 65), buffer)].ToString());
        Assert.Equal("other", buffer[..ClientKinds.Client("a/" + new string('1', 70), buffer)].ToString());
    }

    [Theory]
    [InlineData("en-US,en;q=0.9", "en")]
    [InlineData("fr", "fr")]
    [InlineData("DE-de", "de")]
    [InlineData("zh-Hant-TW, zh;q=0.8", "zh")]
    [InlineData("fil-PH", "fil")]
    [InlineData(" pt_BR ;q=1", "pt")]
    [InlineData("", "none")]
    [InlineData("  ", "none")]
    [InlineData("*", "other")]
    [InlineData("e", "other")]
    [InlineData("english", "other")]
    [InlineData("x1-US", "other")]
    [InlineData(";q=0.5", "other")]
    [InlineData("ü-DE", "other")]
    public void TheLanguageIsThePrimarySubtagOfTheFirstEntry(string acceptLanguage, string expected)
    {
        Span<char> buffer = stackalloc char[ClientKinds.BufferLength];
        Assert.Equal(expected, buffer[..ClientKinds.Language(acceptLanguage, buffer)].ToString());
    }
}
