namespace Herald.Sdk.Internal;

/// <summary>
/// Remembers the deliveries (event id and per-attempt request id, both signed) this app has accepted while their
/// timestamps can still pass the signature check, so that a captured delivery sent again is refused.
/// </summary>
/// <remarks>
/// Accepted deliveries are kept in one-minute buckets by the time they may be forgotten; a whole bucket is dropped
/// once that time has passed. Each check costs a few hash lookups whatever the traffic, and the memory held is the
/// deliveries of the last <see cref="Memory"/> plus a minute.
/// </remarks>
internal sealed class ReplayGuard(TimeProvider timeProvider)
{
    /// <summary>How long an accepted delivery is remembered: twice the timestamp tolerance, which covers both directions of clock skew.</summary>
    internal static readonly TimeSpan Memory = 2 * Herald.Protocol.WebhookSignature.Tolerance;

    private static readonly long BucketMilliseconds = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;

    private readonly Lock _gate = new();
    private readonly Queue<(long ForgetAfter, HashSet<string> Keys)> _buckets = new();
    private (long ForgetAfter, HashSet<string> Keys) _newest = (long.MinValue, []);

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
        var key = eventId + "/" + requestId;
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
                _newest = (forgetAfter, new HashSet<string>(StringComparer.Ordinal));
                _buckets.Enqueue(_newest);
            }

            return _newest.Keys.Add(key);
        }
    }
}
