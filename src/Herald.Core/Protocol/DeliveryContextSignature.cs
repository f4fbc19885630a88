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
        ArgumentNullException.ThrowIfNull(context);
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(Canonical(context)), hash);
        return "v1," + Convert.ToBase64String(hash);
    }

    /// <summary>Whether <paramref name="header"/> signs <paramref name="context"/> under any of <paramref name="secrets"/>.</summary>
    public static bool Verify(IReadOnlyList<string> secrets, DeliveryContext context, string? header)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        if (string.IsNullOrEmpty(header))
        {
            return false;
        }

        var given = Encoding.ASCII.GetBytes(header);
        foreach (var secret in secrets)
        {
            if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, context)), given))
            {
                return true;
            }
        }

        return false;
    }

    private static string Canonical(DeliveryContext c) =>
        string.Join('\n', Version, c.EventId, c.Timestamp, c.RequestId, c.HandlerId, c.Key, c.Sender, c.Subject, c.Account, c.Workspace, c.Attempt);
}
