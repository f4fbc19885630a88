using Herald.Delivery;

namespace Herald.Storage;

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

/// <summary>What happened to the registry: an app saved (linked or relinked) or deleted (unlinked).</summary>
/// <param name="Account">The app's account.</param>
/// <param name="Workspace">The app's workspace.</param>
/// <param name="Sender">The app's sender id.</param>
/// <param name="App">The app as saved; <c>null</c> when it was deleted.</param>
public sealed record AppChange(string Account, string Workspace, string Sender, StoredApp? App);

/// <summary>A subscription as the store is told of it: where it lives, what it listens to, and its delivery policy.</summary>
/// <param name="Id">The subscription id, <c>{account}/{workspace}/{vendor.name}/{handlerId}</c>.</param>
/// <param name="Account">The account of the subscribing app.</param>
/// <param name="Workspace">The workspace of the subscribing app.</param>
/// <param name="App">The subscribing app's sender id.</param>
/// <param name="HandlerId">The handler's key in the app's <c>events</c>.</param>
/// <param name="Sender">The sender it listens to; <c>null</c> for any.</param>
/// <param name="Keys">The event keys it listens to.</param>
/// <param name="Policy">Its delivery policy.</param>
public sealed record SubscriptionSpec(string Id, string Account, string Workspace, string App, string HandlerId, string? Sender, IReadOnlyList<string> Keys, DeliveryPolicy Policy);

/// <summary>
/// A delivery handed out by <see cref="IDeliveryQueue.LeaseAsync"/>: the event, and which attempt this is (1-based).
/// Stores subclass it to carry what they need to settle it.
/// </summary>
public class DeliveryLease
{
    /// <summary>A lease of delivery <paramref name="deliveryId"/>.</summary>
    public DeliveryLease(string deliveryId, string subscriptionId, int attempt, HeraldEvent evt)
    {
        DeliveryId = deliveryId;
        SubscriptionId = subscriptionId;
        Attempt = attempt;
        Event = evt;
    }

    /// <summary>The store's id of the delivery: opaque, stable across its attempts.</summary>
    public string DeliveryId { get; }

    /// <summary>The subscription it belongs to.</summary>
    public string SubscriptionId { get; }

    /// <summary>Which attempt this lease is for, 1-based.</summary>
    public int Attempt { get; }

    /// <summary>The event to deliver.</summary>
    public HeraldEvent Event { get; }
}

/// <summary>How a delivery is settled.</summary>
public enum SettlementKind
{
    /// <summary>The app took it (2xx).</summary>
    Delivered,

    /// <summary>Attempt it again after <see cref="Settlement.RetryIn"/>.</summary>
    Retry,

    /// <summary>Dead-letter it with <see cref="Settlement.DeadReason"/>.</summary>
    Dead,
}

/// <summary>The outcome of one attempt of a leased delivery, to be written back.</summary>
/// <param name="Lease">The lease the attempt ran under.</param>
/// <param name="Kind">Delivered, retry, or dead.</param>
/// <param name="Attempt">What the attempt did; <c>null</c> when no attempt was made (e.g. the event was too old).</param>
/// <param name="RetryIn">With <see cref="SettlementKind.Retry"/>: how long from now the next attempt is due.</param>
/// <param name="DeadReason">With <see cref="SettlementKind.Dead"/>: why.</param>
public sealed record Settlement(DeliveryLease Lease, SettlementKind Kind, AttemptRecord? Attempt, TimeSpan RetryIn, string? DeadReason)
{
    /// <summary>The delivery was delivered.</summary>
    public static Settlement Delivered(DeliveryLease lease, AttemptRecord? attempt) => new(lease, SettlementKind.Delivered, attempt, TimeSpan.Zero, null);

    /// <summary>The delivery is due again after <paramref name="retryIn"/>.</summary>
    public static Settlement Retry(DeliveryLease lease, AttemptRecord? attempt, TimeSpan retryIn) => new(lease, SettlementKind.Retry, attempt, retryIn, null);

    /// <summary>The delivery is dead, for <paramref name="reason"/>.</summary>
    public static Settlement Dead(DeliveryLease lease, AttemptRecord? attempt, string reason) => new(lease, SettlementKind.Dead, attempt, TimeSpan.Zero, reason);
}

/// <summary>What one attempt did.</summary>
/// <param name="Attempt">1-based attempt number.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="Duration">How long it took.</param>
/// <param name="Status">The HTTP status, when the app answered.</param>
/// <param name="Error">What went wrong, when the attempt failed.</param>
public sealed record AttemptRecord(int Attempt, DateTimeOffset StartedAt, TimeSpan Duration, int? Status, string? Error);

/// <summary>Counts of a subscription's deliveries by state.</summary>
/// <param name="Pending">Waiting to be attempted (due now or later).</param>
/// <param name="InFlight">Leased: an attempt under way.</param>
/// <param name="Delivered">Delivered and still kept (retention prunes them).</param>
/// <param name="Dead">Dead-lettered.</param>
public sealed record DeliveryCounts(long Pending, long InFlight, long Delivered, long Dead)
{
    /// <summary>No deliveries.</summary>
    public static readonly DeliveryCounts Zero = new(0, 0, 0, 0);
}

/// <summary>A dead letter as stored: the event, the subscription, the reason and every attempt.</summary>
/// <param name="Id">The store's id of the dead letter: opaque.</param>
/// <param name="SubscriptionId">The subscription it was for.</param>
/// <param name="Event">The event.</param>
/// <param name="Reason">Why it died.</param>
/// <param name="DeadAt">When it died.</param>
/// <param name="Attempts">Every attempt's outcome, oldest first.</param>
public sealed record StoredDeadLetter(string Id, string SubscriptionId, HeraldEvent Event, string Reason, DateTimeOffset DeadAt, IReadOnlyList<AttemptRecord> Attempts);

/// <summary>
/// Which dead letters to redrive, count or purge; at least one of the first three fields is set and all set fields
/// must match. <paramref name="Limit"/>, when set, takes at most that many, those dead longest first, so a large
/// redrive can go in short batches (a letter that dies again moves to the back).
/// </summary>
public sealed record DeadLetterSelector(IReadOnlyList<string>? Ids, string? SubscriptionId, DateTimeOffset? DeadSince, int? Limit = null);

/// <summary>The result of an append: the event id that holds (a repeat's first id) and how many deliveries it has.</summary>
public sealed record AppendResult(Guid EventId, int Deliveries, bool Duplicate);
