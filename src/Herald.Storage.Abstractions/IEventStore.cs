namespace Herald.Storage;

/// <summary>
/// The broker's durable event store (DESIGN §7). It persists events, keeps one delivery queue per subscription and
/// settles deliveries; the retry schedule, routing and dead-letter decisions live in the broker and are the same
/// over every store. Times are relative and measured on the store's own clock.
/// </summary>
/// <remarks>
/// Recovery after a crash (deliveries left leased become due again) is the store's business and is described in its
/// documentation; a store is ready for use once <see cref="InitializeAsync"/> has returned.
/// </remarks>
public interface IEventStore
{
    /// <summary>Creates what the store needs and recovers what a crash left behind.</summary>
    /// <exception cref="StoreUnavailableException">The store cannot be opened.</exception>
    ValueTask InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Durably writes an event and one pending delivery per subscription in <paramref name="subscriptionIds"/> (routed
    /// by the broker at publish time), due at once; returns only once they are durable. With an
    /// <paramref name="idempotencyKey"/> already seen for the same (account, workspace, sender) inside the store's
    /// dedupe window, writes nothing and returns the first event's id and delivery count.
    /// </summary>
    /// <exception cref="StoreUnavailableException">Nothing could be written; the publish was not accepted.</exception>
    ValueTask<AppendResult> AppendAsync(HeraldEvent evt, IReadOnlyList<string> subscriptionIds, string? idempotencyKey, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens the delivery queue of a subscription. One broker process holds at most one open queue per subscription;
    /// disposing it gives up its unsettled leases (they become due again when the lease runs out).
    /// </summary>
    ValueTask<IDeliveryQueue> OpenQueueAsync(string subscriptionId, CancellationToken cancellationToken = default);

    /// <summary>Tells the store that a subscription exists with this spec (it appeared, or its app was relinked).</summary>
    ValueTask SubscriptionChangedAsync(SubscriptionSpec subscription, CancellationToken cancellationToken = default);

    /// <summary>
    /// Tells the store that a subscription is gone: each of its undelivered deliveries is dead-lettered with
    /// <paramref name="reason"/>, durably before this returns. Returns how many.
    /// </summary>
    ValueTask<int> SubscriptionRemovedAsync(string subscriptionId, string reason, CancellationToken cancellationToken = default);

    /// <summary>Counts deliveries by state for each of <paramref name="subscriptionIds"/>.</summary>
    ValueTask<IReadOnlyDictionary<string, DeliveryCounts>> CountAsync(IReadOnlyCollection<string> subscriptionIds, CancellationToken cancellationToken = default);

    /// <summary>
    /// For each of <paramref name="subscriptionIds"/> with deliveries not yet settled as delivered or dead (pending or
    /// in flight), the time its oldest such event was accepted; subscriptions with none are left out. How far behind
    /// a subscription is: the lag.
    /// </summary>
    ValueTask<IReadOnlyDictionary<string, DateTimeOffset>> OldestUndeliveredAsync(IReadOnlyCollection<string> subscriptionIds, CancellationToken cancellationToken = default);

    /// <summary>Whether the store answers now.</summary>
    ValueTask<bool> PingAsync(CancellationToken cancellationToken = default);
}
