using Candor.TestSupport;

namespace Candor.Protocol.Tests;

/// <summary>The public API of the shipped package Candor.Protocol, approved in Candor.Protocol.approved.txt beside this file.</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void ThePublicApiOfCandorProtocolIsTheApprovedOne() =>
        PublicApiApproval.Verify(typeof(EventBatch).Assembly, "Candor.Protocol.Tests");
}
