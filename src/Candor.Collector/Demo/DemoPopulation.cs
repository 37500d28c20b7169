using System.Net;

namespace Candor.Collector.Demo;

/// <summary>One simulated install of <c>acme</c>: the machine, where it connects from, when it was
/// first and last used, how often, and how quickly it upgrades.</summary>
internal sealed record DemoInstall(
    int Number,
    string OsFamily,
    string OsVersion,
    string? KernelRelease,
    string Architecture,
    string Runtime,
    string? CiVariable,
    bool OptedOut,
    bool TakesPreviews,
    bool IsAgent,
    DemoNetwork Network,
    IPAddress Address,
    DateTimeOffset FirstRun,
    DateTimeOffset LastRun,
    double Activity,
    TimeSpan UpgradeLag)
{
    /// <summary>The version installed at <paramref name="at"/>: the newest at the first run, then each
    /// release once the install's upgrade lag has passed. Previews only for those who take them.</summary>
    public string VersionAt(DateTimeOffset at, DateTimeOffset now)
    {
        var version = DemoPopulation.Releases[0].Version;
        foreach (var (release, daysAgo) in DemoPopulation.Releases)
        {
            var released = now.AddDays(-daysAgo);
            if ((release.Contains('-', StringComparison.Ordinal) && !TakesPreviews) || (released > FirstRun && released + UpgradeLag > at) || released > at)
            {
                continue;
            }

            version = release;
        }

        return version;
    }
}

/// <summary>The simulated population, planned from a seed so every demo looks the same.</summary>
internal static class DemoPopulation
{
    /// <summary>acme's releases, by how many days before now each came out.</summary>
    public static readonly (string Version, int DaysAgo)[] Releases =
        [("1.0.0", 90), ("1.1.0", 62), ("1.2.0", 41), ("1.3.0", 24), ("1.4.0", 10), ("2.0.0-preview.1", 4)];

    private static readonly (string Os, string Version, string? Kernel, string Architecture, int Weight)[] Machines =
    [
        ("linux", "Ubuntu 24.04.1 LTS", "6.8.0", "x64", 22),
        ("linux", "Debian GNU/Linux 12 (bookworm)", "6.1.0", "x64", 12),
        ("linux", "Fedora Linux 41", "6.11.4", "x64", 5),
        ("linux", "Ubuntu 22.04.5 LTS", "5.15.0", "arm64", 6),
        ("windows", "Microsoft Windows 10.0.22631", null, "x64", 20),
        ("windows", "Microsoft Windows 10.0.26100", null, "x64", 8),
        ("windows", "Microsoft Windows 10.0.26100", null, "arm64", 2),
        ("macos", "Darwin 24.1.0", null, "arm64", 15),
        ("macos", "Darwin 23.6.0", null, "x64", 4),
        ("freebsd", "FreeBSD 14.1-RELEASE", "14.1", "x64", 1),
    ];

    private static readonly (string Version, int Weight)[] Runtimes = [("8.0.11", 40), ("9.0.0", 35), ("10.0.0", 25)];

    private static readonly (string Variable, int Weight)[] CiSystems =
        [("GITHUB_ACTIONS", 50), ("GITLAB_CI", 25), ("TF_BUILD", 15), ("JENKINS_URL", 10)];

    public static IReadOnlyList<DemoInstall> Plan(Random random, DateTimeOffset now, int installs, TimeSpan history)
    {
        var list = new List<DemoInstall>(installs);
        for (var number = 0; number < installs; number++)
        {
            var machine = Pick(random, Machines, m => m.Weight);
            var ci = random.NextDouble() < 0.22 ? Pick(random, CiSystems, c => c.Weight).Variable : null;
            var isAgent = ci is null && machine.Os == "linux" && random.NextDouble() < 0.3;
            // More installs recently than long ago: a growing tool.
            var firstRun = now - history * Math.Pow(random.NextDouble(), 1.4) + TimeSpan.FromHours(random.Next(-6, 6));
            firstRun = firstRun > now.AddHours(-1) ? now.AddHours(-1) : firstRun;
            // A quarter try the tool once or twice; the others stay for weeks or months.
            var lifetime = random.NextDouble() < 0.25
                ? TimeSpan.FromDays(random.NextDouble() * 3)
                : TimeSpan.FromDays(-Math.Log(1 - random.NextDouble()) * 70);
            if (isAgent && random.NextDouble() < 0.7)
            {
                lifetime = TimeSpan.FromDays(3650); // still running today
            }

            var lastRun = now - firstRun < lifetime ? now : firstRun + lifetime;
            var network = DemoAddresses.Pick(random);
            list.Add(new DemoInstall(
                number,
                machine.Os,
                machine.Version,
                machine.Kernel,
                machine.Architecture,
                Pick(random, Runtimes, r => r.Weight).Version,
                ci,
                OptedOut: random.NextDouble() < 0.06,
                TakesPreviews: random.NextDouble() < 0.15,
                isAgent,
                network,
                network.AddressIn(random),
                firstRun,
                lastRun,
                Activity: ci is not null ? 0.85 : 0.15 + random.NextDouble() * 0.45,
                UpgradeLag: TimeSpan.FromDays(-Math.Log(1 - random.NextDouble()) * 6)));
        }

        return list;
    }

    internal static T Pick<T>(Random random, IReadOnlyList<T> items, Func<T, int> weight)
    {
        var roll = random.Next(items.Sum(weight));
        foreach (var item in items)
        {
            roll -= weight(item);
            if (roll < 0)
            {
                return item;
            }
        }

        return items[^1];
    }
}
