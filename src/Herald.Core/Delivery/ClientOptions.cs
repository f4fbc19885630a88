namespace Herald.Delivery;

/// <summary>
/// The options of an IO client, as VTEX IO's <c>clients.options.default</c> and <c>clients.options.&lt;name&gt;</c>
/// take them. Every field is optional; <see cref="Merge"/> lays a named client's options over the defaults.
/// Times are in milliseconds.
/// </summary>
public sealed record ClientOptions
{
    /// <summary>The library defaults, used for any field neither <c>default</c> nor the named options set.</summary>
    public static readonly ClientOptions LibraryDefaults = new()
    {
        Retries = 0,
        Timeout = 1000,
        ExponentialTimeoutCoefficient = 2,
        InitialBackoffDelay = 200,
        ExponentialBackoffCoefficient = 2,
        Concurrency = null,
    };

    /// <summary>The most times a failed request is retried. <value>0</value></summary>
    public int? Retries { get; init; }

    /// <summary>The first attempt's timeout, in ms. <value>1000</value></summary>
    public int? Timeout { get; init; }

    /// <summary>Attempt n (0-based) times out after <c>Timeout × coefficient^n</c>. <value>2</value></summary>
    public double? ExponentialTimeoutCoefficient { get; init; }

    /// <summary>The wait before the first retry, in ms. <value>200</value></summary>
    public int? InitialBackoffDelay { get; init; }

    /// <summary>The wait before retry k is <c>InitialBackoffDelay × coefficient^(k−1)</c>, with 20% jitter. <value>2</value></summary>
    public double? ExponentialBackoffCoefficient { get; init; }

    /// <summary>Requests in flight at once for this client; more are queued, not rejected. <value>unlimited</value></summary>
    public int? Concurrency { get; init; }

    /// <summary>These options with every unset field taken from <paramref name="fallback"/>.</summary>
    public ClientOptions Merge(ClientOptions? fallback) => fallback is null ? this : new ClientOptions
    {
        Retries = Retries ?? fallback.Retries,
        Timeout = Timeout ?? fallback.Timeout,
        ExponentialTimeoutCoefficient = ExponentialTimeoutCoefficient ?? fallback.ExponentialTimeoutCoefficient,
        InitialBackoffDelay = InitialBackoffDelay ?? fallback.InitialBackoffDelay,
        ExponentialBackoffCoefficient = ExponentialBackoffCoefficient ?? fallback.ExponentialBackoffCoefficient,
        Concurrency = Concurrency ?? fallback.Concurrency,
    };

    /// <summary>
    /// The options a named client runs with: its own options (<paramref name="named"/>) over <paramref name="defaults"/>
    /// over <see cref="LibraryDefaults"/>.
    /// </summary>
    public static ClientOptions Resolve(ClientOptions? named, ClientOptions? defaults) =>
        (named ?? new ClientOptions()).Merge((defaults ?? new ClientOptions()).Merge(LibraryDefaults));

    /// <summary>
    /// What is wrong with these options, one line per field, each naming the field as <paramref name="where"/> plus its
    /// name (e.g. <c>service.Clients.Default.Timeout</c>), the rule and the value; empty when nothing is.
    /// </summary>
    public IEnumerable<string> Problems(string where)
    {
        static string Value(double value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string? Range(string field, double? value, double min, double max, string unit) =>
            value is { } v && (!double.IsFinite(v) || v < min || v > max)
                ? $"{where}.{field} must be from {Value(min)} to {Value(max)}{unit}; found {Value(v)}."
                : null;

        return new[]
        {
            Range(nameof(Retries), Retries, 0, 100, ""),
            Range(nameof(Timeout), Timeout, 1, 3_600_000, " ms"),
            Range(nameof(ExponentialTimeoutCoefficient), ExponentialTimeoutCoefficient, 1, 10, ""),
            Range(nameof(InitialBackoffDelay), InitialBackoffDelay, 0, 3_600_000, " ms"),
            Range(nameof(ExponentialBackoffCoefficient), ExponentialBackoffCoefficient, 1, 10, ""),
            Range(nameof(Concurrency), Concurrency, 1, 10_000, " requests at once"),
        }.OfType<string>();
    }

    /// <summary>The same schedule as the broker's, for these options (after <see cref="Resolve"/>).</summary>
    public DeliveryPolicy ToSchedule() => new()
    {
        Retries = Retries ?? LibraryDefaults.Retries!.Value,
        Timeout = Timeout ?? LibraryDefaults.Timeout!.Value,
        ExponentialTimeoutCoefficient = ExponentialTimeoutCoefficient ?? LibraryDefaults.ExponentialTimeoutCoefficient!.Value,
        InitialBackoffDelay = InitialBackoffDelay ?? LibraryDefaults.InitialBackoffDelay!.Value,
        ExponentialBackoffCoefficient = ExponentialBackoffCoefficient ?? LibraryDefaults.ExponentialBackoffCoefficient!.Value,
        MaxBackoffDelay = DeliveryPolicy.DefaultMaxBackoffDelay,
        Concurrency = Concurrency ?? int.MaxValue,
    };
}
