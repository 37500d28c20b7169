using System.Net;
using System.Text.Json;
using Candor.Collector.Schemas;
using Candor.Protocol;
using Candor.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Candor.Collector.Tests.Schemas;

public sealed class SchemaRegistryTests
{
    [Fact]
    public async Task AnEventWithoutAVersionIsValidatedAgainstTheNewestVersionKnown()
    {
        using var schemas = new TemporaryDirectory();
        WriteSchema(schemas, "1-0-0", """{"command":{"type":"string"}}""");
        WriteSchema(schemas, "1-1-0", """{"command":{"type":"string"},"interactive":{"type":"boolean"}}""");
        await using var collector = await TestCollector.StartAsync(schemaDirectory: schemas.Path);
        var withFlag = """{"command":"run","interactive":true}""";

        using var unversioned = await collector.PostAsync(TestCollector.BatchOf("acme", TestCollector.Event(Guid.CreateVersion7(), withFlag)));
        using var pinned = await collector.PostAsync(TestCollector.BatchOf("acme", TestCollector.Event(Guid.CreateVersion7(), withFlag, version: "1-0-0")));

        Assert.Equal(HttpStatusCode.OK, unversioned.StatusCode);
        Assert.Equal("1-1-0", Assert.Single(await collector.ReadEventsAsync()).GetProperty("version").GetString());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, pinned.StatusCode);
        Assert.Equal("undeclared_property", Assert.Single(await collector.ReadQuarantineAsync()).GetProperty("reason_code").GetString());
    }

    [Fact]
    public async Task ASchemaFileAddedWhileRunningIsPickedUpWithoutARestart()
    {
        using var schemas = new TemporaryDirectory();
        WriteSchema(schemas, "1-0-0", """{"command":{"type":"string"}}""");
        await using var collector = await TestCollector.StartAsync(schemaDirectory: schemas.Path);
        var registry = collector.Service<SchemaRegistry>();
        var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        registry.Reloaded += count =>
        {
            if (count == 2)
            {
                reloaded.TrySetResult();
            }
        };

        WriteSchema(schemas, "1-0-0", """{"target":{"type":"string"}}""", name: "deploy");
        await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(20));

        using var response = await collector.PostAsync(TestCollector.BatchOf("acme",
            TestCollector.Event(Guid.CreateVersion7(), """{"target":"prod"}""", name: "deploy")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ABrokenOrMisplacedSchemaFileIsSkippedAndTheOthersStayInForce()
    {
        using var schemas = new TemporaryDirectory();
        WriteSchema(schemas, "1-0-0", """{"command":{"type":"string"}}""");
        Directory.CreateDirectory(schemas.Combine("acme", "broken"));
        File.WriteAllText(schemas.Combine("acme", "broken", "1-0-0.json"), "{ not json");
        File.WriteAllText(schemas.Combine("acme", "command", "latest.json"), "{}");
        // Its self-description disagrees with its place.
        Directory.CreateDirectory(schemas.Combine("acme", "other"));
        File.WriteAllText(schemas.Combine("acme", "other", "1-0-0.json"), SchemaJson("acme", "command", "1-0-0", "{}"));
        using var registry = new SchemaRegistry(new CollectorOptions { SchemaDirectory = schemas.Path }, NullLogger<SchemaRegistry>.Instance);

        await registry.ReloadAsync();

        Assert.Equal(1, registry.Count);
        Assert.NotNull(registry.Find("acme", "command", null));
        Assert.Null(registry.Find("acme", "other", null));
    }

    public static TheoryData<string> PropertySets => new()
    {
        """{"command":"run","exit_code":0,"duration_ms":3}""",
        """{"command":"run","exit_code":0}""",
        """{"command":"run","exit_code":0,"duration_ms":3,"path":"/x"}""",
        """{"command":7,"exit_code":0,"duration_ms":3}""",
        """{"command":"run","exit_code":1.5,"duration_ms":3}""",
        """{"command":"run","exit_code":0,"duration_ms":-1}""",
        """{"command":null,"exit_code":0,"duration_ms":3}""",
        """{"command":"run","exit_code":true,"duration_ms":3}""",
    };

    [Theory]
    [MemberData(nameof(PropertySets))]
    public async Task TheCompiledCheckAgreesWithNJsonSchema(string properties)
    {
        var schema = await EventSchema.LoadAsync("acme", "command", new SchemaVersion(1, 0, 0),
            File.ReadAllText(Path.Combine(TestCollector.SampleSchemas, "acme", "command", "1-0-0.json")));
        var values = JsonSerializer.Deserialize(properties, CollectorJsonContext.Default.IDictionaryStringPropertyValue);

        Assert.True(schema.IsCompiled);
        Assert.Equal(schema.ValidateWithNJsonSchema(values).Code, schema.Validate(values).Code);
    }

    [Fact]
    public async Task ASchemaBeyondTheCompiledSubsetIsValidatedByNJsonSchema()
    {
        var schema = await EventSchema.LoadAsync("acme", "command", new SchemaVersion(1, 0, 0), SchemaJson("acme", "command", "1-0-0",
            """{"command":{"anyOf":[{"type":"string"},{"type":"integer"}]}}"""));

        Assert.False(schema.IsCompiled);
        Assert.True(schema.Validate(new Dictionary<string, PropertyValue> { ["command"] = 3 }).IsValid);
        Assert.Equal(ErrorCodes.InvalidProperty, schema.Validate(new Dictionary<string, PropertyValue> { ["command"] = true }).Code);
        Assert.Equal(ErrorCodes.UndeclaredProperty, schema.Validate(new Dictionary<string, PropertyValue> { ["other"] = 1 }).Code);
    }

    private static void WriteSchema(TemporaryDirectory root, string version, string properties, string name = "command")
    {
        Directory.CreateDirectory(root.Combine("acme", name));
        File.WriteAllText(root.Combine("acme", name, version + ".json"), SchemaJson("acme", name, version, properties));
    }

    private static string SchemaJson(string vendor, string name, string version, string properties) => $$"""
        {"$schema":"http://json-schema.org/draft-07/schema#",
         "self":{"vendor":"{{vendor}}","name":"{{name}}","format":"jsonschema","version":"{{version}}"},
         "type":"object","properties":{{properties}},"additionalProperties":false}
        """;
}
