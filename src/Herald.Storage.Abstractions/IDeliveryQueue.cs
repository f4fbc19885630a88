namespace Herald.Storage;

/// <summary>
/// One subscription's queue of deliveries, as one broker sees it: it hands out leased deliveries, keeps their leases
/// alive while attempts run, and settles them. One caller leases from a queue at a time.
/// </summary>
public interface IDeliveryQueue : IAsyncDisposable
{
    /// <summary>The subscription this queue belongs to.</summary>
    string SubscriptionId { get; }

    /// <summary>
    /// Waits up to <paramref name="maxWait"/> for a delivery to be due, then returns up to <paramref name="max"/> due
    /// deliveries, oldest due first, each leased for <paramref name="leaseFor"/>: until the lease runs out (or is
    /// extended) no other lease of the same delivery is handed out. Returns an empty list when nothing became due in
    /// time. Each lease counts an attempt; whether an attempt under way when the broker process died is counted is the
    /// store's business (a store that keeps leases in memory makes it again under the same number).
    /// </summary>
    ValueTask<IReadOnlyList<DeliveryLease>> LeaseAsync(int max, TimeSpan leaseFor, TimeSpan maxWait, CancellationToken cancellationToken = default);

    /// <summary>Extends each lease to run <paramref name="leaseFor"/> from now (attempts still running); settled or lost leases are skipped.</summary>
    ValueTask ExtendAsync(IReadOnlyList<DeliveryLease> leases, TimeSpan leaseFor, CancellationToken cancellationToken = default);

    /// <summary>
    /// Settles deliveries in one durable batch: delivered, retry after a delay, or dead with a reason (with the
    /// attempt's record). Durable before it returns. A settlement whose lease is no longer held (it ran out and the
    /// delivery was leased again, or the delivery was dead-lettered meanwhile) changes nothing.
    /// </summary>
    /// <exception cref="StoreUnavailableException">Nothing was written; the leases are still held and may be settled again.</exception>
    ValueTask SettleAsync(IReadOnlyList<Settlement> settlements, CancellationToken cancellationToken = default);
}
