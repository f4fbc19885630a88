using System.Security.Cryptography;
using System.Text;
using Herald.Protocol;

namespace Herald.Broker.Security;

/// <summary>
/// The broker's credentials. App tokens and signing secrets are derived from a random broker key (kept in
/// <c>{data}/broker.key</c>, readable only by its owner) and a random nonce per link, so the store keeps only a
/// token hash and the nonce; a relink draws a new nonce, and the old token and secret stop working.
/// The admin token is random, created at first start in <c>{data}/admin.token</c> for the CLI.
/// </summary>
internal sealed class Credentials
{
    /// <summary>The prefix of app tokens.</summary>
    public const string AppTokenPrefix = "hat_";

    /// <summary>The prefix of admin tokens.</summary>
    public const string AdminTokenPrefix = "had_";

    /// <summary>The admin token file's name in the data folder.</summary>
    public const string AdminTokenFile = "admin.token";

    private const string BrokerKeyFile = "broker.key";

    private readonly byte[] _brokerKey;
    private readonly byte[] _adminTokenHash;

    private Credentials(byte[] brokerKey, string adminToken)
    {
        _brokerKey = brokerKey;
        _adminTokenHash = SHA256.HashData(Encoding.UTF8.GetBytes(adminToken));
    }

    /// <summary>Loads the broker key and admin token from <paramref name="dataDirectory"/>, creating them at first start.</summary>
    public static Credentials LoadOrCreate(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var keyPath = Path.Combine(dataDirectory, BrokerKeyFile);
        var key = ReadOrCreate(keyPath, () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var admin = ReadOrCreate(Path.Combine(dataDirectory, AdminTokenFile), () => AdminTokenPrefix + Base64Url(RandomNumberGenerator.GetBytes(32)));
        return new Credentials(Convert.FromBase64String(key), admin);
    }

    /// <summary>
    /// A one-way fingerprint of the broker key and the admin token (16 hex digits of a SHA-256 over both), the same on
    /// every broker given the same keys; it tells nothing about the keys.
    /// </summary>
    public string Fingerprint => Convert.ToHexStringLower(SHA256.HashData([.. "herald-keys-v1\n"u8, .. _brokerKey, .. _adminTokenHash]))[..16];

    /// <summary>Makes a new random link nonce.</summary>
    public static string NewNonce() => Base64Url(RandomNumberGenerator.GetBytes(16));

    /// <summary>The app token of a link.</summary>
    public string AppToken(string account, string workspace, string sender, string nonce) =>
        AppTokenPrefix + Base64Url(Derive("token", account, workspace, sender, nonce));

    /// <summary>The signing secret of a link.</summary>
    public string SigningSecret(string account, string workspace, string sender, string nonce) =>
        WebhookSignature.SecretPrefix + Convert.ToBase64String(Derive("signing", account, workspace, sender, nonce));

    /// <summary>SHA-256 of a token, hex: what the store keeps.</summary>
    public static string Hash(string token)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(token, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// What a presented token is: <see cref="TokenCheck.IsAdmin"/> when it is the admin token (compared in constant time),
    /// else its hash, to look an app up by (one SHA-256 for both).
    /// </summary>
    public TokenCheck Check(ReadOnlySpan<char> token)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(token, hash);
        return CryptographicOperations.FixedTimeEquals(hash, _adminTokenHash) ? new TokenCheck(true, null) : new TokenCheck(false, Convert.ToHexStringLower(hash));
    }

    /// <summary>SHA-256 of a token's UTF-8, into <paramref name="hash"/>.</summary>
    private static void Hash(ReadOnlySpan<char> token, Span<byte> hash)
    {
        var length = Encoding.UTF8.GetMaxByteCount(token.Length);
        var text = length <= 512 ? stackalloc byte[length] : new byte[length];
        SHA256.HashData(text[..Encoding.UTF8.GetBytes(token, text)], hash);
    }

    private byte[] Derive(string purpose, string account, string workspace, string sender, string nonce) =>
        HMACSHA256.HashData(_brokerKey, Encoding.UTF8.GetBytes($"{purpose}\n{account}\n{workspace}\n{sender}\n{nonce}"));

    private static string ReadOrCreate(string path, Func<string> create)
    {
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (existing.Length > 0)
            {
                return existing;
            }
        }

        var value = create();
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(value);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        return value;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>A presented token: the admin's, or the hash an app's token would have.</summary>
internal readonly record struct TokenCheck(bool IsAdmin, string? AppTokenHash);
