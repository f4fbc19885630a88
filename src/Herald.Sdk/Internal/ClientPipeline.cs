using System.Net;
using System.Threading.RateLimiting;
using Herald.Delivery;
using Herald.Protocol;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Herald.Sdk.Internal;

/// <summary>
/// The resilience pipeline of an IO client, with VTEX IO's semantics: a concurrency limit that queues, at most
/// <c>retries</c> retries of idempotent requests with exponential backoff and 20% jitter, and a per-attempt timeout
/// of <c>timeout × exponentialTimeoutCoefficient^n</c>. The math is <see cref="DeliveryPolicy"/>'s.
/// </summary>
internal static class ClientPipeline
{
    /// <summary>The number of attempts started so far in one execution.</summary>
    internal static readonly ResiliencePropertyKey<int> AttemptKey = new("herald.client.attempt");

    private static readonly HashSet<HttpMethod> IdempotentMethods =
        [HttpMethod.Get, HttpMethod.Head, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Options];

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, ClientOptions resolved, TimeProvider timeProvider)
    {
        var schedule = resolved.ToSchedule();
        builder.TimeProvider = timeProvider;
        if (resolved.Concurrency is { } concurrency)
        {
            builder.AddConcurrencyLimiter(new ConcurrencyLimiterOptions
            {
                PermitLimit = concurrency,
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
        }

        if (schedule.Retries > 0)
        {
            builder.AddRetry(CreateRetryOptions(schedule));
        }

        builder.AddTimeout(CreateTimeoutOptions(schedule));
    }

    public static RetryStrategyOptions<HttpResponseMessage> CreateRetryOptions(DeliveryPolicy schedule) => new()
    {
        MaxRetryAttempts = schedule.Retries,
        UseJitter = false,
        ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context.GetRequestMessage())),
        DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(schedule.BackoffDelay(args.AttemptNumber + 1, Random.Shared.NextDouble())),
    };

    public static TimeoutStrategyOptions CreateTimeoutOptions(DeliveryPolicy schedule) => new()
    {
        TimeoutGenerator = args =>
        {
            var attempt = args.Context.Properties.GetValue(AttemptKey, 0) + 1;
            args.Context.Properties.Set(AttemptKey, attempt);
            return ValueTask.FromResult(schedule.AttemptTimeout(attempt));
        },
    };

    /// <summary>
    /// Whether an attempt's outcome is worth another try, as <c>@vtex/api</c> decides: only for idempotent requests, on
    /// timeouts, network errors and 5xx. Not 408 or 429: the server said it would not take the request now, and
    /// trying again at once only adds load; the caller decides.
    /// </summary>
    public static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, HttpRequestMessage? request)
    {
        if (request is null || !IsIdempotent(request))
        {
            return false;
        }

        if (outcome.Exception is not null)
        {
            return outcome.Exception is HttpRequestException or TimeoutRejectedException;
        }

        return (int)(outcome.Result?.StatusCode ?? 0) >= 500;
    }

    public static bool IsIdempotent(HttpRequestMessage request) =>
        IdempotentMethods.Contains(request.Method) || request.Headers.Contains(HeraldHeaders.IdempotencyKey);
}
