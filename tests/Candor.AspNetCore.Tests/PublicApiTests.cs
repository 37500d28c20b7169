using Candor.TestSupport;

namespace Candor.AspNetCore.Tests;

/// <summary>The public API of the shipped package Candor.AspNetCore, approved in Candor.AspNetCore.approved.txt beside this file.</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void ThePublicApiOfCandorAspNetCoreIsTheApprovedOne() =>
        PublicApiApproval.Verify(typeof(HttpUsageAggregator).Assembly, "Candor.AspNetCore.Tests");
}
