namespace Herald.Storage;

/// <summary>Lists, redrives and purges dead letters. Every call is scoped to one (account, workspace).</summary>
public interface IDeadLetterStore
{
    /// <summary>Dead letters of events in one (account, workspace), newest first, optionally of one subscription.</summary>
    ValueTask<IReadOnlyList<StoredDeadLetter>> ListDeadLettersAsync(string account, string workspace, string? subscriptionId, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes matching dead letters due again at once with a fresh attempt count (the new delivery may have a new id);
    /// returns how many.
    /// </summary>
    /// <exception cref="InvalidStoreIdException">An id in the selector is not one this store hands out.</exception>
    ValueTask<int> RedriveAsync(string account, string workspace, DeadLetterSelector selector, CancellationToken cancellationToken = default);

    /// <summary>How many dead letters match (ignoring the selector's limit).</summary>
    /// <exception cref="InvalidStoreIdException">An id in the selector is not one this store hands out.</exception>
    ValueTask<long> CountDeadLettersAsync(string account, string workspace, DeadLetterSelector selector, CancellationToken cancellationToken = default);

    /// <summary>Deletes matching dead letters for good; returns how many.</summary>
    /// <exception cref="InvalidStoreIdException">An id in the selector is not one this store hands out.</exception>
    ValueTask<int> PurgeAsync(string account, string workspace, DeadLetterSelector selector, CancellationToken cancellationToken = default);
}
