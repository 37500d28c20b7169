using Candor.Consent;
using Tomlyn;

namespace Candor.Tests.Consent;

public sealed class FlatTomlTests
{
    [Theory]
    [InlineData("level = \"anonymous\"\nnotice_version = 2\n")]
    [InlineData("# a comment\n\nlevel=\"off\"\r\ninstall_id = \"0f8fad5b-d9cb-469f-a165-70867728950e\"\r\n")]
    [InlineData("consent = false\nproject_uuid = \"7d444840-9dc0-11d1-b245-5ffdce74fad2\"\n")]
    [InlineData("  indented = true\nnegative = -3\nzero = 0\nplus = +7\n")]
    [InlineData("")]
    public void WhatTheFlatReaderAcceptsTomlynReadsTheSame(string text)
    {
        var flat = FlatToml.TryParse(text);

        Assert.NotNull(flat);
        var full = TomlSerializer.Deserialize(text, CandorTomlContext.Default.TomlTable)!;
        Assert.Equal(full.OrderBy(p => p.Key, StringComparer.Ordinal), flat.OrderBy(p => p.Key, StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("[table]\nkey = 1\n")]
    [InlineData("level = \"anon\\u0079mous\"\n")]
    [InlineData("level = \"anonymous\" # trailing comment\n")]
    [InlineData("a = 1\na = 2\n")]
    [InlineData("a = 0x10\n")]
    [InlineData("a = 1_000\n")]
    [InlineData("a = 007\n")]
    [InlineData("a = 'literal'\n")]
    [InlineData("a.b = 1\n")]
    [InlineData("a = \"unclosed\n")]
    [InlineData("a = [1, 2]\n")]
    [InlineData("a = 2026-11-23\n")]
    [InlineData("just words\n")]
    public void AnythingElseIsLeftToTomlyn(string text)
    {
        Assert.Null(FlatToml.TryParse(text));
    }

    [Fact]
    public void AUserFileOutsideTheFlatSubsetIsStillReadAndKeptWhenUpdated()
    {
        using var environment = new FakeEnvironment();
        environment.WriteUserFile("level = 'anonymous' # chosen by hand\nnotice_version = 1\n[extra]\nkept = true\n");

        var decision = new ConsentResolver(ConsentPrecedenceTests.AcmeOptions(), environment).Resolve();

        Assert.Equal(TelemetryLevel.Anonymous, decision.Level);
        var saved = File.ReadAllText(environment.UserFile);
        Assert.Contains("install_id", saved, StringComparison.Ordinal);
        Assert.Contains("kept = true", saved, StringComparison.Ordinal);
    }
}
