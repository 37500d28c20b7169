using System.Runtime.InteropServices;
using Candor.Collector.Storage;

namespace Candor.Collector.Tests;

/// <summary>
/// The collector's top-level folders (namespaces <c>Candor.Collector.&lt;Folder&gt;</c>) depend on each
/// other one way only: <c>Operations</c>, <c>Schemas</c> ← <c>Security</c> ← <c>Analytics</c> ←
/// <c>Storage</c> ← <c>Enrichment</c> ← <c>Ingestion</c> ← <c>Demo</c>; <c>Admin</c>, <c>Cli</c>,
/// <c>Dashboard</c>, <c>DataRights</c> and <c>Privacy</c> on top. The root namespace is the composition root and is left out. Read from the
/// compiled assembly, so every use counts: signatures, method bodies, attributes, and names written
/// fully or relatively qualified (<c>Storage.DuckDb.X</c>), which a look at the using lines would miss.
/// </summary>
public sealed class ArchitectureTests
{
    [Fact]
    public void NoTwoTopLevelFoldersOfTheCollectorDependOnEachOther()
    {
        var graph = CollectorFolderGraph.Read(typeof(EventRecord).Assembly.Location);

        var cycles = graph.Cycles();

        Assert.True(cycles.Count == 0, "The collector's folders depend on each other in a cycle:" + Environment.NewLine
            + string.Join(Environment.NewLine, cycles.Select(graph.Describe)));
    }

    [Fact]
    public void TheFolderGraphSeesAUseInsideAMethodBody()
    {
        // Cli names the storage only inside method bodies (ReportCommand, ExportCommand): a reader of
        // signatures alone would see no edge at all.
        var graph = CollectorFolderGraph.Read(typeof(EventRecord).Assembly.Location);

        Assert.Contains("Storage", graph.DependenciesOf("Cli"));
        Assert.Contains("Analytics", graph.DependenciesOf("Storage"));
    }

    [Fact]
    public void TheProtocolReferencesOnlyTheFramework()
    {
        var protocol = typeof(Candor.Protocol.EventContext).Assembly;
        var runtime = RuntimeEnvironment.GetRuntimeDirectory();

        var foreign = protocol.GetReferencedAssemblies()
            .Where(name => name.Name!.StartsWith("Candor", StringComparison.Ordinal) || !File.Exists(Path.Combine(runtime, name.Name + ".dll")))
            .Select(name => name.FullName)
            .ToList();

        Assert.True(foreign.Count == 0, "Candor.Protocol references more than the framework: " + string.Join(", ", foreign));
    }
}
