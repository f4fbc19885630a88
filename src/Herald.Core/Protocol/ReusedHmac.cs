using System.Security.Cryptography;

namespace Herald.Protocol;

/// <summary>
/// HMAC-SHA256 with the keyed state kept for reuse: each thread keeps the last few keys it used, so signing or checking
/// a delivery does not set a key up and free it again, which the one-shot <see cref="HMACSHA256.HashData(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/>
/// does on every call (about half its cost for a small message).
/// </summary>
internal static class ReusedHmac
{
    // A broker signs for every linked app from a few pool threads; an app checks with one or two secrets.
    private const int KeysPerThread = 8;

    [ThreadStatic]
    private static Keyed?[]? t_keyed;

    /// <summary>Writes HMAC-SHA256(<paramref name="key"/>, <paramref name="data"/>) to <paramref name="hash"/>.</summary>
    public static void HashData(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> hash)
    {
        var keyed = t_keyed ??= new Keyed?[KeysPerThread];
        var hmac = Find(keyed, key);
        try
        {
            hmac.AppendData(data);
            hmac.GetHashAndReset(hash);
        }
        catch
        {
            // Never reuse a state that may hold part of a message: this thread starts over.
            t_keyed = null;
            foreach (var entry in keyed)
            {
                entry?.Hmac.Dispose();
            }

            throw;
        }
    }

    /// <summary>The keyed HMAC of <paramref name="key"/>, moved to the front; made, in place of the least recently used, when absent.</summary>
    private static IncrementalHash Find(Keyed?[] keyed, ReadOnlySpan<byte> key)
    {
        var slot = 0;
        while (slot < keyed.Length && keyed[slot] is { } entry && !entry.Key.AsSpan().SequenceEqual(key))
        {
            slot++;
        }

        Keyed found;
        if (slot < keyed.Length && keyed[slot] is { } hit)
        {
            found = hit;
        }
        else
        {
            slot = Math.Min(slot, keyed.Length - 1);
            keyed[slot]?.Hmac.Dispose();
            found = new Keyed(key.ToArray(), IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key));
        }

        // Most recently used first, so a thread that alternates between a few keys finds each at once.
        Array.Copy(keyed, 0, keyed, 1, slot);
        keyed[0] = found;
        return found.Hmac;
    }

    private sealed record Keyed(byte[] Key, IncrementalHash Hmac);
}
