using Herald.Broker.Storage;

namespace Herald.Storage.Sqlite;

public sealed partial class SqliteEventStore
{
    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<StoredApp>> LoadAppsAsync(CancellationToken cancellationToken = default)
    {
        var apps = new List<StoredApp>();
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT account, workspace, sender, app_id, endpoint, link_nonce, token_hash, manifest_json, service_json, linked_at FROM apps ORDER BY account, workspace, sender");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            apps.Add(new StoredApp(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8), FromUnixMs(reader.GetInt64(9))));
        }

        return apps;
    }

    /// <inheritdoc/>
    public ValueTask SaveAppAsync(StoredApp app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        return new ValueTask(WriteAsync((c, t) => Execute(c, t, """
            INSERT OR REPLACE INTO apps (account, workspace, sender, app_id, endpoint, link_nonce, token_hash, manifest_json, service_json, linked_at)
            VALUES ($a, $w, $s, $id, $e, $n, $h, $m, $svc, $at)
            """,
            ("$a", app.Account), ("$w", app.Workspace), ("$s", app.Sender), ("$id", app.AppId), ("$e", app.Endpoint), ("$n", app.LinkNonce),
            ("$h", app.TokenHash), ("$m", app.ManifestJson), ("$svc", app.ServiceJson), ("$at", ToUnixMs(app.LinkedAt))), cancellationToken).AsTask());
    }

    /// <inheritdoc/>
    public async ValueTask<bool> DeleteAppAsync(string account, string workspace, string sender, CancellationToken cancellationToken = default) =>
        await WriteAsync((c, t) => Execute(c, t, "DELETE FROM apps WHERE account = $a AND workspace = $w AND sender = $s", ("$a", account), ("$w", workspace), ("$s", sender)), cancellationToken).ConfigureAwait(false) > 0;
}
