namespace Herald.Broker.Storage;

/// <summary>A linked app as the store keeps it. Credentials are never stored: only a hash of the token and the link's nonce.</summary>
/// <param name="Account">The account it is linked in.</param>
/// <param name="Workspace">The workspace it is linked in.</param>
/// <param name="Sender">Its sender id, <c>vendor.name</c>.</param>
/// <param name="AppId"><c>vendor.name@version</c>.</param>
/// <param name="Endpoint">Where it listens.</param>
/// <param name="LinkNonce">Random per link; the app's token and signing secret are derived from it and the broker key.</param>
/// <param name="TokenHash">SHA-256 of the app's token, hex.</param>
/// <param name="ManifestJson">Its manifest.json.</param>
/// <param name="ServiceJson">Its service.json.</param>
/// <param name="LinkedAt">When it was (last) linked.</param>
public sealed record StoredApp(
    string Account,
    string Workspace,
    string Sender,
    string AppId,
    string Endpoint,
    string LinkNonce,
    string TokenHash,
    string ManifestJson,
    string ServiceJson,
    DateTimeOffset LinkedAt);

/// <summary>The state of a delivery.</summary>
public enum DeliveryState
{
    /// <summary>Waiting for its due time.</summary>
    Pending = 0,

    /// <summary>Leased by a dispatcher, an attempt under way.</summary>
    InFlight = 1,

    /// <summary>The app answered 2xx.</summary>
    Delivered = 2,

    /// <summary>Dead-lettered: kept with its reason and attempts until redriven or purged.</summary>
    Dead = 3,
}

/// <summary>A delivery a dispatcher leased: the event and which attempt this is (1-based).</summary>
public sealed record LeasedDelivery(long DeliveryId, string SubscriptionId, int Attempt, HeraldEvent Event);

/// <summary>What one attempt did.</summary>
/// <param name="Attempt">1-based attempt number.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="Duration">How long it took.</param>
/// <param name="Status">The HTTP status, when the app answered.</param>
/// <param name="Error">What went wrong, when the attempt failed.</param>
public sealed record AttemptRecord(int Attempt, DateTimeOffset StartedAt, TimeSpan Duration, int? Status, string? Error);

/// <summary>The outcome of an attempt, to be written back: delivered, retry at a time, or dead with a reason.</summary>
public sealed record DeliveryOutcome(long DeliveryId, AttemptRecord? Attempt, DeliveryState NewState, DateTimeOffset? RetryAt, string? DeadReason, DateTimeOffset At);

/// <summary>Counts of a subscription's deliveries by state.</summary>
public sealed record DeliveryCounts(long Pending, long InFlight, long Delivered, long Dead)
{
    /// <summary>No deliveries.</summary>
    public static readonly DeliveryCounts Zero = new(0, 0, 0, 0);
}

/// <summary>A dead letter as stored.</summary>
public sealed record StoredDeadLetter(long DeliveryId, string SubscriptionId, HeraldEvent Event, string Reason, DateTimeOffset DeadAt, IReadOnlyList<AttemptRecord> Attempts);

/// <summary>
/// Which dead letters to redrive or purge; at least one of the first three fields is set and all set fields must
/// match. <paramref name="Limit"/>, when set, takes at most that many, those dead longest first, so a large redrive
/// can go in short batches (a letter that dies again moves to the back).
/// </summary>
public sealed record RedriveSelector(IReadOnlyList<long>? DeliveryIds, string? SubscriptionId, DateTimeOffset? DeadSince, int? Limit = null);

/// <summary>The result of an append: the event id that holds (a repeat's first id) and how many deliveries it has.</summary>
public sealed record AppendResult(Guid EventId, int Deliveries, bool Duplicate);
