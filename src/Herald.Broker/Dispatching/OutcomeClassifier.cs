using Herald.Delivery;
using Herald.Storage;

namespace Herald.Broker.Dispatching;

/// <summary>
/// Turns an attempt's result into a settlement (DESIGN §3): 2xx delivered; 429 retried after <c>Retry-After</c>
/// capped by <c>maxBackoffDelay</c>; 408, 5xx, timeouts and network errors retried with backoff; any other 4xx dead
/// at once; retries exhausted or the event too old, dead.
/// </summary>
internal sealed class OutcomeClassifier(Func<double> jitter)
{
    /// <summary>Reason: the app answered a status that is not retried.</summary>
    public const string RejectedReason = "rejected";

    /// <summary>Reason: every attempt the policy allows failed.</summary>
    public const string RetriesExhaustedReason = "retries-exhausted";

    /// <summary>Reason: the event became older than <c>maxEventAge</c>.</summary>
    public const string MaxEventAgeReason = "max-event-age";

    /// <summary>A classifier with uniform jitter.</summary>
    public OutcomeClassifier()
        : this(Random.Shared.NextDouble)
    {
    }

    /// <summary>Whether a status is worth retrying.</summary>
    public static bool IsRetriable(int status) => status is 408 or 429 or >= 500;

    /// <summary>The settlement of <paramref name="lease"/> after <paramref name="result"/>, under <paramref name="policy"/>, at <paramref name="now"/>.</summary>
    public Settlement Classify(DeliveryLease lease, DeliveryPolicy policy, AttemptResult result, DateTimeOffset now)
    {
        var record = new AttemptRecord(lease.Attempt, result.StartedAt, result.Duration, result.Status, result.Error);
        if (result.Succeeded)
        {
            return Settlement.Delivered(lease, record);
        }

        if (result.Status is { } status && !IsRetriable(status))
        {
            return Settlement.Dead(lease, record, $"{RejectedReason}: the app answered {status}, which is not retried");
        }

        if (lease.Attempt >= policy.MaxAttempts)
        {
            return Settlement.Dead(lease, record, $"{RetriesExhaustedReason}: {lease.Attempt} attempts failed");
        }

        var wait = result.Status == 429 && result.RetryAfter is { } retryAfter
            ? policy.CapRetryAfter(retryAfter)
            : policy.BackoffDelay(lease.Attempt, jitter());
        if (now + wait - lease.Event.Time > TimeSpan.FromMilliseconds(policy.MaxEventAge))
        {
            return Settlement.Dead(lease, record, $"{MaxEventAgeReason}: the next retry would be past {policy.MaxEventAge} ms");
        }

        return Settlement.Retry(lease, record, wait);
    }

    /// <summary>The settlement of a delivery whose event is too old to attempt.</summary>
    public static Settlement Expired(DeliveryLease lease, DeliveryPolicy policy) =>
        Settlement.Dead(lease, null, $"{MaxEventAgeReason}: older than {policy.MaxEventAge} ms");
}
