using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Herald.Protocol;

/// <summary>
/// What a delivery says about itself, besides its body: the facts an app acts on. The broker signs them in
/// <c>x-herald-signature</c>, so that none can be changed, and no attempt replayed, without the signing secret.
/// </summary>
public sealed record DeliveryContext(
    string EventId,
    string Timestamp,
    string RequestId,
    string HandlerId,
    string Key,
    string Sender,
    string Subject,
    string Account,
    string Workspace,
    string Attempt);

/// <summary>
/// The <c>x-herald-signature</c> header: <c>v1,</c> + base64 HMAC-SHA256, keyed like <see cref="WebhookSignature"/>,
/// over <c>herald-context-v1</c> and the fields of a <see cref="DeliveryContext"/>, one per line. It complements the
/// Standard Webhooks signature, which covers only the id, the timestamp and the body.
/// </summary>
public static class DeliveryContextSignature
{
    private const string Version = "herald-context-v1";

    /// <summary>Signs <paramref name="context"/>; returns the header's value.</summary>
    public static string Sign(string secret, DeliveryContext context) => Sign(WebhookSignature.DecodeSecret(secret), context);

    /// <summary>Signs <paramref name="context"/> with a secret's key (<see cref="WebhookSignature.DecodeSecret"/>); returns the header's value.</summary>
    public static string Sign(ReadOnlySpan<byte> key, DeliveryContext context)
    {
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Hash(key, context, hash);
        return SignatureHeader.Format(hash);
    }

    /// <summary>Whether <paramref name="header"/> signs <paramref name="context"/> under any of <paramref name="secrets"/>.</summary>
    public static bool Verify(IReadOnlyList<string> secrets, DeliveryContext context, string? header)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (string.IsNullOrEmpty(header))
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        foreach (var secret in secrets)
        {
            using var key = SignatureHeader.Key(secret);
            Hash(key.Span, context, hash);
            if (SignatureHeader.Matches(hash, header))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>HMAC-SHA256 over <c>herald-context-v1</c> and the context's fields, one per line, in UTF-8.</summary>
    private static void Hash(ReadOnlySpan<byte> key, DeliveryContext context, Span<byte> hash)
    {
        ArgumentNullException.ThrowIfNull(context);
        ReadOnlySpan<string> fields = [Version, context.EventId, context.Timestamp, context.RequestId, context.HandlerId, context.Key, context.Sender, context.Subject,
            context.Account, context.Workspace, context.Attempt];
        var size = 0;
        foreach (var field in fields)
        {
            size += Encoding.UTF8.GetMaxByteCount(field.Length) + 1;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var length = 0;
            for (var i = 0; i < fields.Length; i++)
            {
                if (i > 0)
                {
                    buffer[length++] = (byte)'\n';
                }

                length += Encoding.UTF8.GetBytes(fields[i], buffer.AsSpan(length));
            }

            ReusedHmac.HashData(key, buffer.AsSpan(0, length), hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
