using Candor.TestSupport;

namespace Candor.Hosting.Tests;

/// <summary>The public API of the shipped package Candor.Hosting (with its <c>AddCandor</c> extensions in
/// Microsoft.Extensions.DependencyInjection), approved in Candor.Hosting.approved.txt beside this file.</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void ThePublicApiOfCandorHostingIsTheApprovedOne() =>
        PublicApiApproval.Verify(typeof(CandorTelemetry).Assembly, "Candor.Hosting.Tests");
}
