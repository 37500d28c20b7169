using Candor.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using PublicApiGenerator;

namespace Candor.Hosting.Tests;

/// <summary>The public API of the shipped package Candor.Hosting, approved in Candor.Hosting.approved.txt beside this file.</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void ThePublicApiOfCandorHostingIsTheApprovedOne() =>
        PublicApiApproval.Verify(typeof(CandorTelemetry).Assembly, "Candor.Hosting.Tests");

    /// <summary>The generator leaves out types in Microsoft namespaces, where <c>AddCandor</c> lives by
    /// convention: its surface is approved here, in CandorServiceCollectionExtensions.approved.txt.</summary>
    [Fact]
    public void TheAddCandorExtensionsAreTheApprovedOnes()
    {
        var received = typeof(CandorServiceCollectionExtensions).Assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            IncludeTypes = [typeof(CandorServiceCollectionExtensions)],
            AllowNamespacePrefixes = ["Microsoft.Extensions.DependencyInjection"],
            ExcludeAttributes =
            [
                "System.Runtime.CompilerServices.InternalsVisibleToAttribute",
                "System.Runtime.Versioning.TargetFrameworkAttribute",
                "System.Reflection.AssemblyMetadataAttribute",
            ],
        }).ReplaceLineEndings("\n").TrimEnd('\n') + "\n";
        var directory = Path.Combine(RepositoryPaths.Root, "tests", "Candor.Hosting.Tests");
        var approvedPath = Path.Combine(directory, "CandorServiceCollectionExtensions.approved.txt");
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n").TrimEnd('\n') + "\n" : null;
        if (received != approved)
        {
            File.WriteAllText(Path.Combine(directory, "CandorServiceCollectionExtensions.received.txt"), received);
        }

        Assert.Equal(approved, received);
    }
}
