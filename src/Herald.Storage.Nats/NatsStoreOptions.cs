namespace Herald.Storage.Nats;

/// <summary>Options of the JetStream store.</summary>
public sealed class NatsStoreOptions
{
    /// <summary>
    /// The cluster's client URLs, comma separated (<c>nats://127.0.0.1:4222,nats://127.0.0.1:4223</c>); the client
    /// connects to one and fails over to the others.
    /// </summary>
    public required string Url { get; set; }

    /// <summary>
    /// The prefix of every stream, bucket, consumer and subject the store makes, so several Herald installations (or
    /// test runs) can share one cluster: letters, digits, '-' and '_'. <value>herald</value>
    /// </summary>
    public string Prefix { get; set; } = "herald";

    /// <summary>How many servers keep each stream and bucket: 1, or 3 for a cluster that survives losing a node. <value>1</value></summary>
    public int Replicas { get; set; } = 1;

    /// <summary>
    /// How long a publish's <c>Idempotency-Key</c> is remembered after the event it made: at most half of
    /// <see cref="Retention"/>. <value>10 minutes</value>
    /// </summary>
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long events are kept for replay; the events stream's <c>MaxAge</c>. <value>7 days</value></summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long the server waits for word from a broker holding a lease before it hands the delivery out again: how
    /// soon a crashed broker's attempts are made again. A live broker keeps its leases alive well inside it.
    /// <value>30 seconds</value>
    /// </summary>
    public TimeSpan AckWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a publish waits for the cluster to confirm its commit before it is answered 503 (the event may still
    /// commit; a resend with the same <c>Idempotency-Key</c> is safe). <value>800 ms</value>
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromMilliseconds(800);

    /// <summary>How many deliveries per subscription may be leased or waiting for a retry at once (the consumer's <c>MaxAckPending</c>). <value>1000</value></summary>
    public int MaxAckPending { get; set; } = 1000;

    /// <summary>How many events each broker copies to their subscriptions' queues at once. <value>64</value></summary>
    public int FanOutConcurrency { get; set; } = 64;

    /// <summary>Every problem with these options, in one message; <c>null</c> when they are valid.</summary>
    public string? Validate() => Problems() is { Count: > 0 } problems ? "Invalid NATS store options: " + string.Join(" ", problems) : null;

    /// <summary>Every value that breaks its option's rule, one line each, starting with the option's name.</summary>
    public IReadOnlyList<string> Problems()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Url) || Url.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Any(u => !Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme is not ("nats" or "tls")))
        {
            errors.Add($"Url must be one or more nats:// URLs separated by commas, e.g. nats://127.0.0.1:4222; found '{Url}'.");
        }

        if (string.IsNullOrEmpty(Prefix) || Prefix.Length > 32 || !Prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            errors.Add($"Prefix must be 1 to 32 letters, digits, '-' or '_'; found '{Prefix}'.");
        }

        if (Replicas is < 1 or > 5)
        {
            errors.Add($"Replicas must be from 1 to 5 (3 survives the loss of one server); found {Replicas}.");
        }

        // A keyed publish reads its key's last event to decide; that event must outlive the window by a wide margin, or a
        // key whose event has just expired would reuse a message id the replicas may not all have forgotten yet.
        if (DedupeWindow <= TimeSpan.Zero || DedupeWindow > Retention / 2)
        {
            errors.Add($"DedupeWindow must be positive and at most half of Retention ({Retention / 2}): a key is remembered through its last event, which must outlive the window; found {DedupeWindow}.");
        }

        if (AckWait < TimeSpan.FromSeconds(1))
        {
            errors.Add($"AckWait must be at least 1 second; found {AckWait}.");
        }

        if (PublishTimeout <= TimeSpan.Zero)
        {
            errors.Add($"PublishTimeout must be positive; found {PublishTimeout}.");
        }

        if (MaxAckPending < 1)
        {
            errors.Add($"MaxAckPending must be at least 1; found {MaxAckPending}.");
        }

        if (FanOutConcurrency < 1)
        {
            errors.Add($"FanOutConcurrency must be at least 1; found {FanOutConcurrency}.");
        }

        return errors;
    }
}
