using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Herald.Storage.Sqlite;

public sealed partial class SqliteEventStore
{
    private readonly Lock _watchersGate = new();
    private readonly List<Channel<AppChange>> _watchers = [];

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<StoredApp>> LoadAppsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<StoredApp>>(async (connection, ct) =>
        {
            var apps = new List<StoredApp>();
            await using var command = Command(connection, null, "SELECT account, workspace, sender, app_id, endpoint, link_nonce, token_hash, manifest_json, service_json, linked_at FROM apps ORDER BY account, workspace, sender");
            await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                apps.Add(new StoredApp(
                    reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8), FromUnixMs(reader.GetInt64(9))));
            }

            return apps;
        }, cancellationToken);

    /// <inheritdoc/>
    public async ValueTask SaveAppAsync(StoredApp app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        await WriteAsync((c, t) => Execute(c, t, """
            INSERT OR REPLACE INTO apps (account, workspace, sender, app_id, endpoint, link_nonce, token_hash, manifest_json, service_json, linked_at)
            VALUES ($a, $w, $s, $id, $e, $n, $h, $m, $svc, $at)
            """,
            ("$a", app.Account), ("$w", app.Workspace), ("$s", app.Sender), ("$id", app.AppId), ("$e", app.Endpoint), ("$n", app.LinkNonce),
            ("$h", app.TokenHash), ("$m", app.ManifestJson), ("$svc", app.ServiceJson), ("$at", ToUnixMs(app.LinkedAt))), cancellationToken).ConfigureAwait(false);
        Notify(new AppChange(app.Account, app.Workspace, app.Sender, app));
    }

    /// <inheritdoc/>
    public async ValueTask<bool> DeleteAppAsync(string account, string workspace, string sender, CancellationToken cancellationToken = default)
    {
        var deleted = await WriteAsync((c, t) => Execute(c, t, "DELETE FROM apps WHERE account = $a AND workspace = $w AND sender = $s", ("$a", account), ("$w", workspace), ("$s", sender)), cancellationToken).ConfigureAwait(false) > 0;
        if (deleted)
        {
            Notify(new AppChange(account, workspace, sender, null));
        }

        return deleted;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One SQLite file serves one broker process: the changes are those made through this store, from this call on
    /// (not from when the enumeration starts, so a change made in between is not missed).
    /// </remarks>
    public IAsyncEnumerable<AppChange> WatchAsync(CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateUnbounded<AppChange>(new UnboundedChannelOptions { SingleReader = true });
        lock (_watchersGate)
        {
            _watchers.Add(channel);
        }

        return ReadWatchAsync(channel, cancellationToken);
    }

    private async IAsyncEnumerable<AppChange> ReadWatchAsync(Channel<AppChange> channel, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var change in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return change;
            }
        }
        finally
        {
            lock (_watchersGate)
            {
                _watchers.Remove(channel);
            }
        }
    }

    private void Notify(AppChange change)
    {
        lock (_watchersGate)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(change);
            }
        }
    }

    private void CompleteWatchers()
    {
        lock (_watchersGate)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryComplete();
            }
        }
    }
}
