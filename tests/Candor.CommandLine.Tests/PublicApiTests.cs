using Candor.TestSupport;

namespace Candor.CommandLine.Tests;

/// <summary>The public API of the shipped package Candor.CommandLine, approved in Candor.CommandLine.approved.txt beside this file.</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void ThePublicApiOfCandorCommandLineIsTheApprovedOne() =>
        PublicApiApproval.Verify(typeof(TelemetryCommand).Assembly, "Candor.CommandLine.Tests");
}
