using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Herald.Sdk.Internal;

/// <summary>
/// Remembers the deliveries (event id and per-attempt request id, both signed) this app has accepted while their
/// timestamps can still pass the signature check, so that a captured delivery sent again is refused.
/// </summary>
/// <remarks>
/// Accepted deliveries are kept in one-minute buckets by the time they may be forgotten; a whole bucket is dropped
/// once that time has passed. Each check costs a few hash lookups whatever the traffic, and the memory held is the
/// deliveries of the last <see cref="Memory"/> plus a minute, 16 bytes each (the broker's random request id, or the
/// first half of a SHA-256 of the ids: a value, nothing for the garbage collector to trace, and no collision in
/// practice).
/// </remarks>
internal sealed class ReplayGuard(TimeProvider timeProvider)
{
    /// <summary>How long an accepted delivery is remembered: twice the timestamp tolerance, which covers both directions of clock skew.</summary>
    internal static readonly TimeSpan Memory = 2 * Herald.Protocol.WebhookSignature.Tolerance;

    private static readonly long BucketMilliseconds = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;

    private readonly Lock _gate = new();
    private readonly Queue<(long ForgetAfter, HashSet<UInt128> Keys)> _buckets = new();
    private (long ForgetAfter, HashSet<UInt128> Keys) _newest = (long.MinValue, []);

    /// <summary>How many accepted deliveries are remembered now.</summary>
    internal int Count
    {
        get
        {
            lock (_gate)
            {
                return _buckets.Sum(b => b.Keys.Count);
            }
        }
    }

    /// <summary>Records a delivery; returns false when it was seen before (a replay).</summary>
    public bool TryAccept(string eventId, string requestId)
    {
        var key = Key(eventId, requestId);
        var now = timeProvider.GetUtcNow();
        var currentBucket = now.ToUnixTimeMilliseconds() / BucketMilliseconds;
        lock (_gate)
        {
            while (_buckets.TryPeek(out var oldest) && oldest.ForgetAfter < currentBucket)
            {
                _buckets.Dequeue();
            }

            foreach (var (_, keys) in _buckets)
            {
                if (keys.Contains(key))
                {
                    return false;
                }
            }

            // Rounded up to the bucket's end, so nothing is forgotten early; a clock that steps back keeps the newest bucket.
            var forgetAfter = (now + Memory).ToUnixTimeMilliseconds() / BucketMilliseconds;
            if (_buckets.Count == 0 || forgetAfter > _newest.ForgetAfter)
            {
                _newest = (forgetAfter, new HashSet<UInt128>());
                _buckets.Enqueue(_newest);
            }

            return _newest.Keys.Add(key);
        }
    }

    /// <summary>
    /// A delivery's key. A Herald broker's request id is a fresh random 128-bit value in 32 hex digits for every attempt,
    /// signed with the delivery, so it is the key itself; any other form is keyed by the first 16 bytes of SHA-256 over
    /// the UTF-8 of <c>eventId \n requestId</c> (a newline never occurs in a header value).
    /// </summary>
    private static UInt128 Key(string eventId, string requestId)
    {
        if (requestId.Length == 32 && UInt128.TryParse(requestId, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var random))
        {
            return random;
        }

        var length = Encoding.UTF8.GetMaxByteCount(eventId.Length + 1 + requestId.Length);
        Span<byte> text = length <= 1024 ? stackalloc byte[length] : new byte[length];
        var written = Encoding.UTF8.GetBytes(eventId, text);
        text[written++] = (byte)'\n';
        written += Encoding.UTF8.GetBytes(requestId, text[written..]);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(text[..written], hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }
}
