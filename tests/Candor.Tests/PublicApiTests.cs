using Candor.TestSupport;

namespace Candor.Tests;

/// <summary>The public API of the shipped package Candor, approved in Candor.approved.txt beside this file.</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void ThePublicApiOfCandorIsTheApprovedOne() =>
        PublicApiApproval.Verify(typeof(CandorClient).Assembly, "Candor.Tests");
}
