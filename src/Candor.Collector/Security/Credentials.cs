using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Candor.Collector.Security;

/// <summary>
/// The write keys, the admin token and the viewer token in force, from configuration or, when none are configured,
/// development credentials generated once and kept in the data directory (never in the repository).
/// All comparisons are constant-time.
/// </summary>
internal sealed class Credentials
{
    public const string DevelopmentFileName = "dev-credentials.json";

    private readonly (byte[] KeyHash, string? Product)[] _writeKeys;
    private readonly byte[] _adminTokenHash;

    // Null without a viewer token: then only the admin token reads.
    private readonly byte[]? _viewerTokenHash;

    private Credentials(IEnumerable<(string Key, string? Product)> writeKeys, string adminToken, string? viewerToken)
    {
        _writeKeys = [.. writeKeys.Select(k => (Hash(k.Key), k.Product))];
        _adminTokenHash = Hash(adminToken);
        _viewerTokenHash = viewerToken is null ? null : Hash(viewerToken);
    }

    /// <summary>Set when this start created development credentials: shown to the operator once.</summary>
    public DevelopmentCredentials? CreatedDevelopmentCredentials { get; private init; }

    /// <summary>Where development credentials are kept, when they are in use.</summary>
    public string? DevelopmentCredentialsPath { get; private init; }

    public static Credentials Load(CollectorOptions options)
    {
        var configuredKeys = options.Products
            .Select(p => (Key: p.Value.WriteKey!, Product: (string?)p.Key))
            .ToList();
        if (configuredKeys.Count > 0 && options.AdminToken is not null)
        {
            return new Credentials(configuredKeys, options.AdminToken, options.ViewerToken);
        }

        var path = Path.Combine(options.DataDirectory, DevelopmentFileName);
        var (development, created) = LoadOrCreateDevelopment(path);
        var keys = configuredKeys.Count > 0 ? configuredKeys : [(development.WriteKey, null)];
        return new Credentials(keys, options.AdminToken ?? development.AdminToken, options.ViewerToken)
        {
            CreatedDevelopmentCredentials = created ? development : null,
            DevelopmentCredentialsPath = path,
        };
    }

    /// <summary>Finds the write key's entry. A key bound to a product accepts only that product;
    /// the development key accepts any.</summary>
    public WriteKeyCheck CheckWriteKey(string? presented, string product)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return WriteKeyCheck.Missing;
        }

        var hash = Hash(presented);
        var match = WriteKeyCheck.Invalid;
        // Scan every key so the time taken does not depend on which one matched.
        foreach (var (keyHash, keyProduct) in _writeKeys)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, keyHash) &&
                (keyProduct is null || string.Equals(keyProduct, product, StringComparison.Ordinal)))
            {
                match = WriteKeyCheck.Valid;
            }
        }

        return match;
    }

    /// <summary>Whether the presented key is known at all, whatever its product.</summary>
    public bool IsKnownWriteKey(string presented)
    {
        var hash = Hash(presented);
        var known = false;
        foreach (var (keyHash, _) in _writeKeys)
        {
            known |= CryptographicOperations.FixedTimeEquals(hash, keyHash);
        }

        return known;
    }

    public bool IsAdminToken(string? presented) => RoleOf(presented) == ReaderRole.Admin;

    /// <summary>Which reader the token names: the admin, the viewer, or nobody (null). Both tokens
    /// are compared every time, so the time taken does not tell which one matched.</summary>
    public ReaderRole? RoleOf(string? presented)
    {
        if (string.IsNullOrEmpty(presented))
        {
            return null;
        }

        var hash = Hash(presented);
        var admin = CryptographicOperations.FixedTimeEquals(hash, _adminTokenHash);
        var viewer = _viewerTokenHash is not null && CryptographicOperations.FixedTimeEquals(hash, _viewerTokenHash);
        return admin ? ReaderRole.Admin : viewer ? ReaderRole.Viewer : null;
    }

    private static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    private static (DevelopmentCredentials Credentials, bool Created) LoadOrCreateDevelopment(string path)
    {
        if (File.Exists(path))
        {
            var existing = JsonSerializer.Deserialize(File.ReadAllBytes(path), CredentialsJsonContext.Default.DevelopmentCredentials);
            if (existing is { WriteKey.Length: >= 16, AdminToken.Length: >= 16 })
            {
                return (existing, false);
            }

            throw new InvalidOperationException($"The development credentials file '{path}' is unreadable; fix or delete it.");
        }

        var created = new DevelopmentCredentials
        {
            WriteKey = "wk_dev_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            AdminToken = "adm_dev_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(created, CredentialsJsonContext.Default.DevelopmentCredentials));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, path, overwrite: false);
        return (created, true);
    }
}

internal enum WriteKeyCheck
{
    Valid,
    Missing,
    Invalid,
}

internal sealed class DevelopmentCredentials
{
    public string WriteKey { get; set; } = "";

    public string AdminToken { get; set; } = "";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(DevelopmentCredentials))]
internal sealed partial class CredentialsJsonContext : JsonSerializerContext;
