using Candor.Catalog;

namespace Candor.Tests.Catalog;

public sealed class CatalogTextTests
{
    private static CandorOptions Options(string commandDescription) => new()
    {
        ProductName = "acme",
        Endpoint = new Uri("https://telemetry.acme.example/"),
        Catalog = new EventCatalog()
            .Add(new EventDefinition("command", commandDescription)
                .String("command", "The command path.", maxLength: 100, required: true)
                .Integer("exit_code", "The exit code."))
            .Add(new EventDefinition("pipeline", "A pipeline ran.", "2-1-0")
                .Integer("nodes", "Node count.", minimum: 0, maximum: 10_000)
                .Number("ratio", "A ratio.", minimum: 0.5)
                .Boolean("cached", "Whether cached.")
                .Enum("mode", "The mode.", ["fast", "safe"], required: true)),
    };

    [Fact]
    public void TheDefaultNoticeListsTheCatalogsEventsHowToSeeThemAllAndThePrivacyPage()
    {
        var notice = Options("One acme command ran.").ResolvedNoticeText;

        Assert.StartsWith("acme collects anonymous usage data", notice, StringComparison.Ordinal);
        Assert.Contains("\n  command: One acme command ran.\n", notice, StringComparison.Ordinal);
        Assert.Contains("\n  pipeline: A pipeline ran.\n", notice, StringComparison.Ordinal);
        Assert.Contains("`acme telemetry show --schema`", notice, StringComparison.Ordinal);
        Assert.Contains("https://telemetry.acme.example/privacy/acme", notice, StringComparison.Ordinal);
        Assert.Contains("ACME_TELEMETRY=off or DO_NOT_TRACK=1", notice, StringComparison.Ordinal);
        Assert.Contains("`acme telemetry disable`", notice, StringComparison.Ordinal);
    }

    [Fact]
    public void TheNoticeFollowsADescriptionChangedInTheCatalog()
    {
        Assert.Contains("command: Counts the runs of a command.", Options("Counts the runs of a command.").ResolvedNoticeText, StringComparison.Ordinal);
        Assert.DoesNotContain("Counts the runs", Options("Something else.").ResolvedNoticeText, StringComparison.Ordinal);
    }

    [Fact]
    public void TheNoticeStaysShortForATerminal()
    {
        var catalog = new EventCatalog();
        for (var i = 0; i < 25; i++)
        {
            catalog.Add(new EventDefinition($"event_{i:00}", new string('x', 300)));
        }

        var notice = new CandorOptions { ProductName = "acme", Catalog = catalog }.ResolvedNoticeText;
        var lines = notice.Split('\n');

        Assert.All(lines, line => Assert.True(line.Length <= 110, line));
        Assert.True(lines.Length <= 20, notice);
        Assert.Contains("… and 15 more", notice, StringComparison.Ordinal);
        Assert.DoesNotContain("privacy", notice, StringComparison.Ordinal); // no collector configured
    }

    [Fact]
    public void ATextTheToolSetsIsUsedAsItIs() =>
        Assert.Equal("Acme's own notice.", new CandorOptions { ProductName = "acme", NoticeText = "Acme's own notice.\n" }.ResolvedNoticeText);

    [Fact]
    public void TheSchemaTextGivesEveryEventsVersionAndDescriptionAndEveryPropertysTypeMeaningAndBounds()
    {
        var text = CatalogText.Schema(Options("One acme command ran.").Catalog, "acme");

        Assert.Contains("command (version 1-0-0)\n  One acme command ran.\n", text, StringComparison.Ordinal);
        Assert.Contains("  - command: string, required, 100 characters at most\n      The command path.\n", text, StringComparison.Ordinal);
        Assert.Contains("  - exit_code: integer, optional\n      The exit code.\n", text, StringComparison.Ordinal);
        Assert.Contains("pipeline (version 2-1-0)\n  A pipeline ran.\n", text, StringComparison.Ordinal);
        Assert.Contains("  - nodes: integer, optional, minimum 0, maximum 10000\n", text, StringComparison.Ordinal);
        Assert.Contains("  - ratio: number, optional, minimum 0.5\n", text, StringComparison.Ordinal);
        Assert.Contains("  - cached: boolean, optional\n", text, StringComparison.Ordinal);
        Assert.Contains("  - mode: one of fast, safe, required\n", text, StringComparison.Ordinal);
        Assert.True(text.IndexOf("command (", StringComparison.Ordinal) < text.IndexOf("pipeline (", StringComparison.Ordinal));
    }

    [Fact]
    public void AnEmptyCatalogSaysNothingIsSent()
    {
        Assert.Contains("declares no events", CatalogText.Schema(null, "acme"), StringComparison.Ordinal);
        Assert.Contains("declares no events yet", new CandorOptions { ProductName = "acme" }.ResolvedNoticeText, StringComparison.Ordinal);
    }
}
