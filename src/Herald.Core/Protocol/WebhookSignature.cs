using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Herald.Protocol;

/// <summary>
/// Standard Webhooks signatures: <c>v1,</c> + base64 HMAC-SHA256 over <c>{id}.{timestamp}.{body}</c>,
/// keyed with the bytes of a <c>whsec_</c> secret.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The prefix of a signing secret.</summary>
    public const string SecretPrefix = "whsec_";

    /// <summary>How far a delivery's timestamp may be from now before it is refused.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    /// <summary>Makes a new random signing secret (256 bits).</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Signs a message; returns the value of the <c>webhook-signature</c> header.</summary>
    public static string Sign(string secret, string id, long timestamp, ReadOnlySpan<byte> body) => Sign(DecodeSecret(secret), id, timestamp, body);

    /// <summary>Signs a message with a secret's key (<see cref="DecodeSecret"/>); returns the value of the <c>webhook-signature</c> header.</summary>
    public static string Sign(ReadOnlySpan<byte> key, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Hash(key, id, timestamp, body, hash);
        return SignatureHeader.Format(hash);
    }

    /// <summary>HMAC-SHA256 over <c>{id}.{timestamp}.{body}</c>.</summary>
    private static void Hash(ReadOnlySpan<byte> key, string id, long timestamp, ReadOnlySpan<byte> body, Span<byte> hash)
    {
        ArgumentNullException.ThrowIfNull(id);
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(id.Length) + 22 + body.Length);
        try
        {
            var length = Encoding.UTF8.GetBytes(id, buffer);
            buffer[length++] = (byte)'.';
            timestamp.TryFormat(buffer.AsSpan(length), out var digits, provider: CultureInfo.InvariantCulture);
            length += digits;
            buffer[length++] = (byte)'.';
            body.CopyTo(buffer.AsSpan(length));
            length += body.Length;
            ReusedHmac.HashData(key, buffer.AsSpan(0, length), hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Checks a delivery's signature against any of <paramref name="secrets"/> (two during a rotation)
    /// and its timestamp against <paramref name="now"/>.
    /// </summary>
    public static SignatureCheck Verify(IReadOnlyList<string> secrets, string? id, string? timestamp, string? signatureHeader, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signatureHeader))
        {
            return SignatureCheck.Missing;
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return SignatureCheck.BadTimestamp;
        }

        var sent = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799));
        if ((now - sent).Duration() > Tolerance)
        {
            return SignatureCheck.Expired;
        }

        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        foreach (var secret in secrets)
        {
            using var key = SignatureHeader.Key(secret);
            Hash(key.Span, id, seconds, body, hash);
            foreach (var candidate in signatureHeader.AsSpan().Split(' '))
            {
                if (SignatureHeader.Matches(hash, signatureHeader.AsSpan()[candidate]))
                {
                    return SignatureCheck.Valid;
                }
            }
        }

        return SignatureCheck.Mismatch;
    }

    /// <summary>The HMAC key of a <c>whsec_</c> secret.</summary>
    /// <exception cref="FormatException">The secret is not base64 after its prefix.</exception>
    public static byte[] DecodeSecret(string secret)
    {
        using var key = SignatureHeader.Key(secret);
        return key.Span.ToArray();
    }
}

/// <summary>The result of <see cref="WebhookSignature.Verify"/>.</summary>
public enum SignatureCheck
{
    Valid,
    Missing,
    BadTimestamp,
    Expired,
    Mismatch,
}
