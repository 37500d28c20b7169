namespace Candor.Protocol;

/// <summary>The body of a forget or access request (<see cref="ProtocolConstants.ForgetPath"/>,
/// <see cref="ProtocolConstants.AccessPath"/>): the install, named by its random id. Knowing the id
/// and the product's write key is what entitles the request.</summary>
public sealed class InstallRequest
{
    /// <summary>The product the install's events were sent for.</summary>
    public string Product { get; set; } = "";

    /// <summary>The install id, in UUID form.</summary>
    public string InstallId { get; set; } = "";
}

/// <summary>The collector's answer to a forget request (200).</summary>
public sealed class ForgetResponse
{
    /// <summary><c>forgotten</c> (deleted now) or <c>already_forgotten</c> (deleted by an earlier request).</summary>
    public string Status { get; set; } = "";

    /// <summary>Events deleted, whether stored or not yet applied.</summary>
    public long Events { get; set; }

    /// <summary>Quarantined events deleted.</summary>
    public long Quarantine { get; set; }
}
