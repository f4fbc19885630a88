using System.Runtime.CompilerServices;
using Herald.Storage.Nats.Internal;
using NATS.Client.KeyValueStore;

namespace Herald.Storage.Nats;

// The registry: one key per app, {account}.{workspace}.{sender}, in the apps bucket; a watch of the bucket tells every
// broker of each link and unlink.
public sealed partial class NatsEventStore
{
    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<StoredApp>> LoadAppsAsync(CancellationToken cancellationToken = default)
    {
        var apps = new List<StoredApp>();
        try
        {
            await foreach (var key in Apps.GetKeysAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                var entry = await Apps.TryGetEntryAsync<byte[]>(key, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (entry.Success && entry.Value.Value is { Length: > 0 } json)
                {
                    apps.Add(StoreJson.Deserialize<StoredApp>(json));
                }
            }
        }
        catch (NatsKVException ex) when (ex.Message.Contains("no keys", StringComparison.OrdinalIgnoreCase))
        {
            // An empty bucket.
        }

        return apps;
    }

    /// <inheritdoc/>
    public async ValueTask SaveAppAsync(StoredApp app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        await Apps.PutAsync(AppKey(app.Account, app.Workspace, app.Sender), StoreJson.Serialize(app), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask<bool> DeleteAppAsync(string account, string workspace, string sender, CancellationToken cancellationToken = default)
    {
        var key = AppKey(account, workspace, sender);
        var entry = await Apps.TryGetEntryAsync<byte[]>(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!entry.Success)
        {
            return false;
        }

        await Apps.DeleteAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc/>
    public async IAsyncEnumerable<AppChange> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var changes = Apps.WatchAsync<byte[]>(opts: new NatsKVWatchOpts { UpdatesOnly = true }, cancellationToken: cancellationToken);
        await using var enumerator = changes.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            try
            {
                if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }

            var entry = enumerator.Current;
            var parts = entry.Key.Split('.', 3);
            if (parts.Length != 3)
            {
                continue;
            }

            yield return entry.Operation == NatsKVOperation.Put && entry.Value is { Length: > 0 } json
                ? new AppChange(parts[0], parts[1], parts[2], StoreJson.Deserialize<StoredApp>(json))
                : new AppChange(parts[0], parts[1], parts[2], null);
        }
    }

    private static string AppKey(string account, string workspace, string sender) => $"{account}.{workspace}.{sender}";
}
