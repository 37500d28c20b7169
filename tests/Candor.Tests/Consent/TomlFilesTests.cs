using System.Globalization;
using Candor.Consent;
using Candor.TestSupport;

namespace Candor.Tests.Consent;

/// <summary>How the settings files are read (Tomlyn): what Candor writes, what TOML allows beyond it, and
/// what is refused with the reason in words.</summary>
public sealed class TomlFilesTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("candor-toml-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("level = \"anonymous\"\nnotice_version = 2\n", "level=anonymous (String); notice_version=2 (Int64)")]
    [InlineData("# a comment\n\nlevel=\"off\"\r\ninstall_id = \"0f8fad5b-d9cb-469f-a165-70867728950e\"\r\n",
        "install_id=0f8fad5b-d9cb-469f-a165-70867728950e (String); level=off (String)")]
    [InlineData("consent = false\nproject_uuid = \"7d444840-9dc0-11d1-b245-5ffdce74fad2\"\n",
        "consent=False (Boolean); project_uuid=7d444840-9dc0-11d1-b245-5ffdce74fad2 (String)")]
    [InlineData("  indented = true\nnegative = -3\nzero = 0\nplus = +7\n", "indented=True (Boolean); negative=-3 (Int64); plus=7 (Int64); zero=0 (Int64)")]
    [InlineData("\uFEFFlevel = \"anonymous\"\n", "level=anonymous (String)")]
    [InlineData("", "")]
    public void TheFlatFilesCandorWritesAreReadWithTheirValues(string text, string expected)
    {
        Assert.Equal(expected, Describe(Read(text)));
    }

    [Theory]
    [InlineData("level = \"anon\\u0079mous\"\n", "level=anonymous (String)")]
    [InlineData("level = \"anonymous\" # trailing comment\n", "level=anonymous (String)")]
    [InlineData("a = 0x10\n", "a=16 (Int64)")]
    [InlineData("a = 1_000\n", "a=1000 (Int64)")]
    [InlineData("a = 'literal'\n", "a=literal (String)")]
    // Not valid TOML, but Tomlyn's untyped model keeps the last value, as it did behind the flat reader.
    [InlineData("a = 1\na = 2\n", "a=2 (Int64)")]
    public void WhatTomlAllowsBeyondFlatLinesIsReadToo(string text, string expected)
    {
        Assert.Equal(expected, Describe(Read(text)));
    }

    [Theory]
    [InlineData("[table]\nkey = 1\n", "table")]
    [InlineData("a.b = 1\n", "a")]
    [InlineData("a = [1, 2]\n", "a")]
    [InlineData("a = 2026-11-23\n", "a")]
    public void TablesArraysAndDatesAreReadAsTheirKeys(string text, string key)
    {
        var read = Read(text);

        Assert.Null(read.Problem);
        Assert.True(read.Table!.ContainsKey(key));
    }

    [Theory]
    [InlineData("a = 007\n")]
    [InlineData("a = \"unclosed\n")]
    [InlineData("just words\n")]
    [InlineData("consent = = false\n")]
    public void InvalidTomlIsAProblemInOneLine(string text)
    {
        var read = Read(text);

        Assert.True(read.Exists);
        Assert.Null(read.Table);
        Assert.StartsWith("it is not valid TOML: ", read.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', read.Problem!);
    }

    [Fact]
    public void AFileThatIsNotUtf8IsAProblemInWords()
    {
        var path = Path.Combine(_directory, "telemetry.toml");
        File.WriteAllBytes(path, [(byte)'a', (byte)'=', 0xFF, 0xFE]);

        Assert.Equal("it is not UTF-8 text", TomlFiles.Read(path).Problem);
    }

    [Fact]
    public void AMissingFileIsNoProblem()
    {
        var read = TomlFiles.Read(Path.Combine(_directory, "absent.toml"));

        Assert.Equal((false, null, null), (read.Exists, read.Table, read.Problem));
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

    private TomlRead Read(string text)
    {
        var path = Path.Combine(_directory, "telemetry.toml");
        File.WriteAllText(path, text);
        return TomlFiles.Read(path);
    }

    private static string Describe(TomlRead read)
    {
        Assert.Null(read.Problem);
        return string.Join("; ", read.Table!.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value} ({p.Value.GetType().Name})")));
    }
}
