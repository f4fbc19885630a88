namespace Herald.Storage;

/// <summary>Replays subscriptions, and prunes what is past retention (an optional ability of a store).</summary>
public interface IRetentionStore
{
    /// <summary>
    /// Delivers again at least every delivered or dead delivery of <paramref name="subscriptionId"/> whose event was
    /// accepted at or after <paramref name="since"/>, with a fresh attempt count; one still pending may come twice.
    /// Returns how many deliveries it made due.
    /// </summary>
    ValueTask<int> ReplayAsync(string subscriptionId, DateTimeOffset since, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes up to <paramref name="batch"/> events accepted more than <paramref name="retention"/> ago whose every
    /// delivery was delivered (pending, leased and dead ones are never pruned), and forgets expired idempotency keys;
    /// returns how many events it deleted.
    /// </summary>
    ValueTask<int> PruneAsync(TimeSpan retention, int batch, CancellationToken cancellationToken = default);
}
