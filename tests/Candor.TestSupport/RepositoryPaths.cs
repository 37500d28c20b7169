namespace Candor.TestSupport;

/// <summary>Finds the repository and the build outputs of the programs tests start as processes.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>MaxMind's City test database, carried in the repository (tests/testdata/geoip).</summary>
    public static string GeoIpTestDatabase => Path.Combine(Root, "tests", "testdata", "geoip", "GeoLite2-City-Test.mmdb");

    /// <summary>The configuration this test assembly was built in (<c>debug</c> or <c>release</c>),
    /// so programs are taken from the same build.</summary>
    private static string Configuration => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;

    /// <summary>The path of a project's main assembly in the artifacts output, e.g. <c>acme.dll</c>.</summary>
    public static string ProgramAssembly(string projectName, string assemblyName)
    {
        var path = Path.Combine(Root, "artifacts", "bin", projectName, Configuration, assemblyName);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"'{path}' is missing: build the solution before running the tests.", path);
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Candor.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Could not find Candor.slnx above " + AppContext.BaseDirectory);
    }
}
