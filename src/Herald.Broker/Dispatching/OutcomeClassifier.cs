using Herald.Broker.Storage;
using Herald.Delivery;

namespace Herald.Broker.Dispatching;

/// <summary>
/// Turns an attempt's result into a delivery outcome (DESIGN §3): 2xx delivered; 429 retried after
/// <c>Retry-After</c> capped by <c>maxBackoffDelay</c>; 408, 5xx, timeouts and network errors retried with
/// backoff; any other 4xx dead at once; retries exhausted or the event too old, dead.
/// </summary>
public sealed class OutcomeClassifier(Func<double> jitter)
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

    /// <summary>The outcome of <paramref name="result"/>, attempt <paramref name="attempt"/> (1-based) under <paramref name="policy"/>.</summary>
    public DeliveryOutcome Classify(long deliveryId, int attempt, DeliveryPolicy policy, DateTimeOffset eventTime, AttemptResult result, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(result);
        var record = new AttemptRecord(attempt, result.StartedAt, result.Duration, result.Status, result.Error);
        if (result.Succeeded)
        {
            return new DeliveryOutcome(deliveryId, record, DeliveryState.Delivered, null, null, now);
        }

        if (result.Status is { } status && !IsRetriable(status))
        {
            return Dead(deliveryId, record, $"{RejectedReason}: the app answered {status}, which is not retried", now);
        }

        if (attempt >= policy.MaxAttempts)
        {
            return Dead(deliveryId, record, $"{RetriesExhaustedReason}: {attempt} attempts failed", now);
        }

        var wait = result.Status == 429 && result.RetryAfter is { } retryAfter
            ? policy.CapRetryAfter(retryAfter)
            : policy.BackoffDelay(attempt, jitter());
        var retryAt = now + wait;
        if (retryAt - eventTime > TimeSpan.FromMilliseconds(policy.MaxEventAge))
        {
            return Dead(deliveryId, record, $"{MaxEventAgeReason}: the next retry would be past {policy.MaxEventAge} ms", now);
        }

        return new DeliveryOutcome(deliveryId, record, DeliveryState.Pending, retryAt, null, now);
    }

    /// <summary>The outcome of a delivery whose event is too old to attempt.</summary>
    public static DeliveryOutcome Expired(long deliveryId, DeliveryPolicy policy, DateTimeOffset now) =>
        Dead(deliveryId, null, $"{MaxEventAgeReason}: older than {policy.MaxEventAge} ms", now);

    private static DeliveryOutcome Dead(long deliveryId, AttemptRecord? record, string reason, DateTimeOffset now) =>
        new(deliveryId, record, DeliveryState.Dead, null, reason, now);
}
