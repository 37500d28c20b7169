using System.Reflection;
using System.Text.Json.Nodes;
using Candor.Catalog;
using Candor.TestSupport;

namespace Candor.Tests.Catalog;

public sealed class SchemaExportTests
{
    [Fact]
    public void EachEventIsExportedAsASelfDescribingSchemaAtProductEventVersion()
    {
        using var directory = new TemporaryDirectory();
        var catalog = new EventCatalog()
            .Add(new EventDefinition("pipeline", "A pipeline ran.", "1-2-0")
                .String("name", "A name.", maxLength: 20, required: true)
                .Integer("nodes", "Node count.", minimum: 0, maximum: 10_000)
                .Number("ratio", "A ratio.", minimum: 0, maximum: 1)
                .Boolean("cached", "Whether cached.")
                .Enum("mode", "The mode.", ["fast", "safe"]))
            .Add(EventDefinition.Error());

        var written = catalog.ExportSchemas(directory.Path, "acme");

        Assert.Equal([directory.Combine("acme", "error", "1-0-0.json"), directory.Combine("acme", "pipeline", "1-2-0.json")], written);
        var schema = JsonNode.Parse(File.ReadAllText(written[1]))!;
        Assert.Equal("http://json-schema.org/draft-07/schema#", (string?)schema["$schema"]);
        Assert.Equal("""{"vendor":"acme","name":"pipeline","format":"jsonschema","version":"1-2-0"}""", schema["self"]!.ToJsonString());
        Assert.Equal("object", (string?)schema["type"]);
        Assert.False((bool)schema["additionalProperties"]!);
        Assert.Equal("""["name"]""", schema["required"]!.ToJsonString());
        var properties = schema["properties"]!;
        Assert.Equal(20, (int)properties["name"]!["maxLength"]!);
        Assert.Equal("integer", (string?)properties["nodes"]!["type"]);
        Assert.Equal(10_000, (int)properties["nodes"]!["maximum"]!);
        Assert.Equal("number", (string?)properties["ratio"]!["type"]);
        Assert.Equal("boolean", (string?)properties["cached"]!["type"]);
        Assert.Equal("""["fast","safe"]""", properties["mode"]!["enum"]!.ToJsonString());
    }

    [Fact]
    public void MalformedDeclarationsAreRefusedWhenTheCatalogIsBuilt()
    {
        Assert.Throws<ArgumentException>(() => new EventDefinition("Command", "Upper case."));
        Assert.Throws<ArgumentException>(() => new EventDefinition("command", "Bad version.", "1.0.0"));
        Assert.Throws<ArgumentException>(() => new EventDefinition("command", "Twice.").Integer("a", "A").Boolean("a", "A"));
        Assert.Throws<ArgumentException>(() => new EventDefinition("command", "Empty enum.").Enum("mode", "M", []));
        Assert.Throws<ArgumentException>(() => new EventCatalog().Add(new EventDefinition("a", "A")).Add(new EventDefinition("a", "A")));
    }

    /// <summary>The collector loads <c>samples/Acme.Cli/schemas/</c>; it must be exactly what Acme's catalog
    /// exports, so the catalog stays the one source of truth. After changing the catalog, regenerate with
    /// <c>CANDOR_REGENERATE_SCHEMAS=1 dotnet test tests/Candor.Tests --filter TheCommittedAcmeSchemas</c>.</summary>
    [Fact]
    public void TheCommittedAcmeSchemasAreWhatAcmesCatalogExports()
    {
        var acme = Assembly.LoadFrom(RepositoryPaths.ProgramAssembly("Acme.Cli", "acme.dll"));
        var catalog = (EventCatalog)acme.GetType("Acme.Cli.AcmeEvents", throwOnError: true)!
            .GetProperty("Catalog", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!.GetValue(null)!;
        using var exported = new TemporaryDirectory();
        var committedRoot = Path.Combine(RepositoryPaths.Root, "samples", "Acme.Cli", "schemas");
        if (Environment.GetEnvironmentVariable("CANDOR_REGENERATE_SCHEMAS") == "1")
        {
            catalog.ExportSchemas(committedRoot, "acme");
        }

        var written = catalog.ExportSchemas(exported.Path, "acme");

        Assert.Equal(
            Directory.GetFiles(committedRoot, "*.json", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(committedRoot, f)).Order(),
            written.Select(f => Path.GetRelativePath(exported.Path, f)).Order());
        foreach (var file in written)
        {
            var committed = JsonNode.Parse(File.ReadAllText(Path.Combine(committedRoot, Path.GetRelativePath(exported.Path, file))));
            Assert.True(JsonNode.DeepEquals(committed, JsonNode.Parse(File.ReadAllText(file))),
                $"{Path.GetRelativePath(exported.Path, file)} differs from Acme's catalog; regenerate it with EventCatalog.ExportSchemas.");
        }
    }
}
