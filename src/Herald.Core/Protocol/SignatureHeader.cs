using System.Buffers;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Herald.Protocol;

/// <summary>The <c>v1,{base64 HMAC-SHA256}</c> form both delivery signatures share, and a secret's key, made without garbage.</summary>
internal static class SignatureHeader
{
    private const string Prefix = "v1,";

    // "v1," and the base64 of a 32-byte hash.
    private const int Length = 3 + 44;

    /// <summary>The header for a 32-byte <paramref name="hash"/>, written straight into its string.</summary>
    public static string Format(ReadOnlySpan<byte> hash)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(hash.Length, HMACSHA256.HashSizeInBytes, nameof(hash));
        Span<char> header = stackalloc char[Length];
        Prefix.CopyTo(header);
        Convert.TryToBase64Chars(hash, header[Prefix.Length..], out _);
        return new string(header);
    }

    /// <summary>Whether <paramref name="candidate"/> is the header for <paramref name="hash"/>, compared in constant time.</summary>
    public static bool Matches(ReadOnlySpan<byte> hash, ReadOnlySpan<char> candidate)
    {
        Span<char> expected = stackalloc char[Length];
        Prefix.CopyTo(expected);
        Convert.TryToBase64Chars(hash, expected[Prefix.Length..], out _);
        return CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(expected), MemoryMarshal.AsBytes(candidate));
    }

    /// <summary>The HMAC key of a <c>whsec_</c> secret, in a pooled buffer; dispose it when done.</summary>
    public static SecretKey Key(string secret)
    {
        ArgumentNullException.ThrowIfNull(secret);
        var encoded = secret.AsSpan(secret.StartsWith(WebhookSignature.SecretPrefix, StringComparison.Ordinal) ? WebhookSignature.SecretPrefix.Length : 0);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, encoded.Length * 3 / 4 + 3));
        if (!Convert.TryFromBase64Chars(encoded, buffer, out var written))
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw new FormatException("The signing secret is not base64 after its 'whsec_' prefix.");
        }

        return new SecretKey(buffer, written);
    }

    /// <summary>A decoded key in a pooled buffer, cleared when returned.</summary>
    public readonly struct SecretKey(byte[] buffer, int length) : IDisposable
    {
        public ReadOnlySpan<byte> Span => buffer.AsSpan(0, length);

        public void Dispose()
        {
            CryptographicOperations.ZeroMemory(buffer.AsSpan(0, length));
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
