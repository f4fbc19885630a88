namespace Herald.Broker.Storage;

/// <summary>
/// The broker's durable store. It only persists and leases; retry schedule, routing and dead-letter decisions live
/// in the broker and are the same over every store.
/// </summary>
public interface IEventStore
{
    /// <summary>Creates what the store needs and makes every delivery left in flight by a crash due again.</summary>
    ValueTask InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Durably writes an event and one pending delivery per subscription, due now; returns only once they are durable.
    /// With an idempotency key already seen for this (account, workspace, sender) inside its window, writes nothing
    /// and returns the first event's id.
    /// </summary>
    ValueTask<AppendResult> AppendAsync(HeraldEvent evt, IReadOnlyList<string> subscriptionIds, string? idempotencyKey, DateTimeOffset idempotencyExpiresAt, CancellationToken cancellationToken = default);

    /// <summary>
    /// Leases up to <paramref name="max"/> deliveries of a subscription that are due at <paramref name="now"/>
    /// (pending, or in flight with an expired lease) until <paramref name="leaseUntil"/>, counting an attempt for each.
    /// </summary>
    ValueTask<IReadOnlyList<LeasedDelivery>> LeaseAsync(string subscriptionId, int max, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken = default);

    /// <summary>Writes outcomes back, in one durable batch.</summary>
    ValueTask RecordOutcomesAsync(IReadOnlyList<DeliveryOutcome> outcomes, CancellationToken cancellationToken = default);

    /// <summary>The earliest due time of a subscription's pending or leased deliveries, if any.</summary>
    ValueTask<DateTimeOffset?> NextDueAsync(string subscriptionId, CancellationToken cancellationToken = default);

    /// <summary>Counts deliveries by state for each of <paramref name="subscriptionIds"/>.</summary>
    ValueTask<IReadOnlyDictionary<string, DeliveryCounts>> CountAsync(IReadOnlyCollection<string> subscriptionIds, CancellationToken cancellationToken = default);

    /// <summary>Dead-letters every undelivered delivery of a subscription with <paramref name="reason"/>; returns how many.</summary>
    ValueTask<int> DeadLetterSubscriptionAsync(string subscriptionId, string reason, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Checks that the store answers.</summary>
    ValueTask<bool> PingAsync(CancellationToken cancellationToken = default);
}

/// <summary>Keeps the registry of linked apps.</summary>
public interface IAppStore
{
    /// <summary>Every linked app.</summary>
    ValueTask<IReadOnlyList<StoredApp>> LoadAppsAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds or replaces an app (keyed by account, workspace and sender).</summary>
    ValueTask SaveAppAsync(StoredApp app, CancellationToken cancellationToken = default);

    /// <summary>Removes an app; returns whether it was linked.</summary>
    ValueTask<bool> DeleteAppAsync(string account, string workspace, string sender, CancellationToken cancellationToken = default);
}

/// <summary>Lists and redrives dead letters.</summary>
public interface IDeadLetterStore
{
    /// <summary>Dead letters of events in one (account, workspace), newest first, optionally of one subscription.</summary>
    ValueTask<IReadOnlyList<StoredDeadLetter>> ListDeadLettersAsync(string account, string workspace, string? subscriptionId, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes matching dead letters of one (account, workspace) pending again, due at <paramref name="now"/>, with a
    /// fresh attempt count; returns how many.
    /// </summary>
    ValueTask<int> RedriveAsync(string account, string workspace, RedriveSelector selector, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>How many dead letters of one (account, workspace) match (ignoring the selector's limit).</summary>
    ValueTask<long> CountDeadLettersAsync(string account, string workspace, RedriveSelector selector, CancellationToken cancellationToken = default);

    /// <summary>Deletes matching dead letters of one (account, workspace) for good; returns how many.</summary>
    ValueTask<int> PurgeAsync(string account, string workspace, RedriveSelector selector, CancellationToken cancellationToken = default);
}

/// <summary>Replays subscriptions and prunes what is past retention.</summary>
public interface IRetentionStore
{
    /// <summary>
    /// Makes every delivery of <paramref name="subscriptionId"/> whose event was accepted at or after
    /// <paramref name="since"/> and is delivered or dead pending again, due at <paramref name="now"/>, with a fresh
    /// attempt count (pending and in-flight ones are already on their way); returns how many.
    /// </summary>
    ValueTask<int> ReplayAsync(string subscriptionId, DateTimeOffset since, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes up to <paramref name="batch"/> events accepted before <paramref name="olderThan"/> whose every delivery
    /// was delivered (pending, in-flight and dead ones are never pruned), with their deliveries and attempts, and
    /// forgets expired idempotency keys; returns how many events it deleted.
    /// </summary>
    ValueTask<int> PruneAsync(DateTimeOffset olderThan, DateTimeOffset now, int batch, CancellationToken cancellationToken = default);
}

/// <summary>Thrown by a store that cannot write or read (full disk, lost connection): the broker answers 503.</summary>
public sealed class StoreUnavailableException : HeraldException
{
    public StoreUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
