namespace Herald.Delivery;

/// <summary>
/// How the broker delivers to one subscription (DESIGN §5): retries, growing timeouts, exponential backoff
/// with jitter, a concurrency limit and a maximum event age. Times are in milliseconds, as VTEX IO uses them.
/// </summary>
public sealed record DeliveryPolicy
{
    /// <summary>The default number of retries after the first attempt. <value>8</value></summary>
    public const int DefaultRetries = 8;

    /// <summary>The default wait before retry 1, in ms. <value>1000</value></summary>
    public const int DefaultInitialBackoffDelay = 1000;

    /// <summary>The default backoff growth. <value>2</value></summary>
    public const double DefaultExponentialBackoffCoefficient = 2;

    /// <summary>The default timeout growth. <value>1</value></summary>
    public const double DefaultExponentialTimeoutCoefficient = 1;

    /// <summary>The default cap on any wait, in ms (10 minutes). <value>600000</value></summary>
    public const int DefaultMaxBackoffDelay = 600_000;

    /// <summary>The default concurrency when the service declares no <c>rateLimitPerReplica.concurrent</c>. <value>10</value></summary>
    public const int DefaultConcurrency = 10;

    /// <summary>The default maximum event age, in ms (24 hours). <value>86400000</value></summary>
    public const long DefaultMaxEventAge = 86_400_000;

    /// <summary>The longest any single attempt may be given, whatever the coefficients say (one hour).</summary>
    public static readonly TimeSpan MaxAttemptTimeout = TimeSpan.FromHours(1);

    /// <summary>Retries after the first attempt. <value>8</value></summary>
    public int Retries { get; init; } = DefaultRetries;

    /// <summary>The first attempt's timeout, in ms. <value>service <c>timeout</c> × 1000</value></summary>
    public int Timeout { get; init; } = 10_000;

    /// <summary>Attempt n (0-based) times out after <c>Timeout × coefficient^n</c>. <value>1</value></summary>
    public double ExponentialTimeoutCoefficient { get; init; } = DefaultExponentialTimeoutCoefficient;

    /// <summary>The wait before retry 1, in ms. <value>1000</value></summary>
    public int InitialBackoffDelay { get; init; } = DefaultInitialBackoffDelay;

    /// <summary>The wait before retry k is <c>InitialBackoffDelay × coefficient^(k−1) × (1 + 0.2·U)</c>. <value>2</value></summary>
    public double ExponentialBackoffCoefficient { get; init; } = DefaultExponentialBackoffCoefficient;

    /// <summary>The cap on any wait, in ms. <value>600000</value></summary>
    public int MaxBackoffDelay { get; init; } = DefaultMaxBackoffDelay;

    /// <summary>Deliveries in flight at once for the subscription. <value>10</value></summary>
    public int Concurrency { get; init; } = DefaultConcurrency;

    /// <summary>Past this age an event is dead-lettered, in ms. <value>86400000</value></summary>
    public long MaxEventAge { get; init; } = DefaultMaxEventAge;

    /// <summary>The total number of attempts allowed: the first plus <see cref="Retries"/>.</summary>
    public int MaxAttempts => Retries + 1;

    /// <summary>The timeout of attempt <paramref name="attempt"/>, 1-based: <c>Timeout × coefficient^(attempt−1)</c>.</summary>
    public TimeSpan AttemptTimeout(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        var ms = Timeout * Math.Pow(ExponentialTimeoutCoefficient, attempt - 1);
        return ms >= MaxAttemptTimeout.TotalMilliseconds ? MaxAttemptTimeout : TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>
    /// The wait before retry <paramref name="retry"/> (1-based), for a jitter draw <paramref name="jitter"/> in [0, 1):
    /// <c>min(InitialBackoffDelay × coefficient^(retry−1) × (1 + 0.2·jitter), MaxBackoffDelay)</c>.
    /// </summary>
    public TimeSpan BackoffDelay(int retry, double jitter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        if (jitter is < 0 or >= 1 || double.IsNaN(jitter))
        {
            throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "The jitter draw must be in [0, 1).");
        }

        if (InitialBackoffDelay == 0)
        {
            return TimeSpan.Zero;
        }

        var ms = InitialBackoffDelay * Math.Pow(ExponentialBackoffCoefficient, retry - 1) * (1 + (0.2 * jitter));
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxBackoffDelay));
    }

    /// <summary>A <c>Retry-After</c> the app asked for, capped by <see cref="MaxBackoffDelay"/>.</summary>
    public TimeSpan CapRetryAfter(TimeSpan retryAfter) =>
        retryAfter < TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Min(retryAfter.TotalMilliseconds, MaxBackoffDelay));
}
