using System.Threading.RateLimiting;

namespace Herald.Broker.Publishing;

/// <summary>
/// Limits how fast each app publishes, per (account, workspace, sender): a token bucket of
/// <see cref="BrokerOptions.PublishBurst"/> refilled at <see cref="BrokerOptions.PublishPermitsPerSecond"/>.
/// A publish over the limit gets 429 with <c>Retry-After</c>.
/// </summary>
internal sealed class PublishRateLimiter : IAsyncDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public PublishRateLimiter(BrokerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.PublishBurst,
            TokensPerPeriod = options.PublishPermitsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));
    }

    /// <summary>Takes one permit for <paramref name="sender"/> in (account, workspace); returns the wait when there is none.</summary>
    public TimeSpan? TryAcquire(string account, string workspace, string sender)
    {
        using var lease = _limiter.AttemptAcquire($"{account}/{workspace}/{sender}");
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : TimeSpan.FromSeconds(1);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _limiter.DisposeAsync();
}
