using System.Reflection;
using PublicApiGenerator;
using Xunit;

namespace Candor.TestSupport;

/// <summary>Compares a shipped assembly's public API with the approved text committed beside its test
/// project (<c>tests/&lt;project&gt;/&lt;assembly&gt;.approved.txt</c>), so every change of the public
/// surface shows in review. Used by the test projects of shipped packages.</summary>
internal static class PublicApiApproval
{
    private static readonly ApiGeneratorOptions Options = new()
    {
        // Assembly attributes that name build details or friend assemblies rather than public API.
        ExcludeAttributes =
        [
            "System.Runtime.CompilerServices.InternalsVisibleToAttribute",
            "System.Runtime.Versioning.TargetFrameworkAttribute",
            "System.Reflection.AssemblyMetadataAttribute",
        ],
        // Microsoft.* is left out by default; service registrations live there by convention.
        AllowNamespacePrefixes = ["Microsoft.Extensions.DependencyInjection"],
    };

    /// <summary>Fails, after writing <c>&lt;assembly&gt;.received.txt</c> beside the approved file, when the
    /// public API of <paramref name="assembly"/> differs from the approved one.</summary>
    public static void Verify(Assembly assembly, string testProject)
    {
        var name = assembly.GetName().Name!;
        var directory = Path.Combine(RepositoryPaths.Root, "tests", testProject);
        var approvedPath = Path.Combine(directory, name + ".approved.txt");
        var receivedPath = Path.Combine(directory, name + ".received.txt");

        var received = Normalize(assembly.GeneratePublicApi(Options));
        var approved = File.Exists(approvedPath) ? Normalize(File.ReadAllText(approvedPath)) : null;

        if (received == approved)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, received);
        var approvedRelative = Path.GetRelativePath(RepositoryPaths.Root, approvedPath);
        var receivedRelative = Path.GetRelativePath(RepositoryPaths.Root, receivedPath);
        var review = approved is null
            ? $"{approvedRelative} is missing; review {receivedRelative}"
            : $"review the difference: git diff --no-index {approvedRelative} {receivedRelative}";
        Assert.Fail(
            $"The public API of {name} is not the approved one. In {RepositoryPaths.Root}, {review}; " +
            $"if the change is intended, approve it with: cp {receivedRelative} {approvedRelative}, " +
            "and commit the approved file with the change.");
    }

    /// <summary>LF line endings and one final newline, whatever the platform or checkout wrote.</summary>
    private static string Normalize(string text) =>
        text.ReplaceLineEndings("\n").TrimEnd('\n') + "\n";
}
