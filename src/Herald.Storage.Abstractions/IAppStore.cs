namespace Herald.Storage;

/// <summary>Keeps the registry of linked apps, shared by every broker on the store.</summary>
public interface IAppStore
{
    /// <summary>Every linked app.</summary>
    ValueTask<IReadOnlyList<StoredApp>> LoadAppsAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds or replaces an app (keyed by account, workspace and sender).</summary>
    ValueTask SaveAppAsync(StoredApp app, CancellationToken cancellationToken = default);

    /// <summary>Removes an app; returns whether it was linked.</summary>
    ValueTask<bool> DeleteAppAsync(string account, string workspace, string sender, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every change to the registry from now on, made through any broker on this store (this one included), in the
    /// order the store applied them, until <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    IAsyncEnumerable<AppChange> WatchAsync(CancellationToken cancellationToken = default);
}
