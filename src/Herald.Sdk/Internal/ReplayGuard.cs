using System.Collections.Concurrent;

namespace Herald.Sdk.Internal;

/// <summary>
/// Remembers the deliveries (event id and per-attempt request id, both signed) this app has accepted while their
/// timestamps can still pass the signature check, so that a captured delivery sent again is refused.
/// </summary>
internal sealed class ReplayGuard(TimeProvider timeProvider)
{
    /// <summary>How many accepted deliveries may be remembered before expired ones are swept.</summary>
    private const int SweepAbove = 10_000;

    /// <summary>How long an accepted delivery is remembered: twice the timestamp tolerance, which covers both directions of clock skew.</summary>
    private static readonly TimeSpan Memory = 2 * Herald.Protocol.WebhookSignature.Tolerance;

    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);

    /// <summary>Records a delivery; returns false when it was seen before (a replay).</summary>
    public bool TryAccept(string eventId, string requestId)
    {
        var now = timeProvider.GetUtcNow();
        if (_seen.Count > SweepAbove)
        {
            foreach (var (key, until) in _seen)
            {
                if (until <= now)
                {
                    _seen.TryRemove(key, out _);
                }
            }
        }

        return _seen.TryAdd(eventId + "/" + requestId, now + Memory);
    }
}
