namespace Herald.Storage.Sqlite;

public sealed partial class SqliteEventStore
{
    /// <inheritdoc/>
    public async ValueTask<int> ReplayAsync(string subscriptionId, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        var count = await WriteAsync((c, t) =>
        {
            const string Matching = "subscription_id = $sub AND state IN (2, 3) AND event_seq IN (SELECT seq FROM events WHERE time >= $since)";
            (string, object?)[] ps = [("$sub", subscriptionId), ("$since", ToUnixMs(since)), ("$now", NowMs)];
            Execute(c, t, $"DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE {Matching})", ps);
            return Execute(c, t, $"UPDATE deliveries SET state = 0, attempts = 0, due_at = $now, dead_reason = NULL, dead_at = NULL WHERE {Matching}", ps);
        }, cancellationToken).ConfigureAwait(false);
        MarkDue([subscriptionId]);
        return count;
    }

    /// <inheritdoc/>
    public ValueTask<int> PruneAsync(TimeSpan retention, int batch, CancellationToken cancellationToken = default) =>
        WriteAsync((c, t) =>
        {
            var now = NowMs;
            (string, object?)[] ps = [("$before", now - (long)retention.TotalMilliseconds), ("$batch", batch), ("$now", now)];
            Execute(c, t, """
                CREATE TEMP TABLE IF NOT EXISTS prune (seq INTEGER PRIMARY KEY);
                DELETE FROM prune;
                INSERT INTO prune (seq)
                SELECT seq FROM events e
                WHERE e.time < $before
                  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state <> 2)
                ORDER BY seq LIMIT $batch;
                """, ps);
            Execute(c, t, "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_seq IN (SELECT seq FROM prune))");
            Execute(c, t, "DELETE FROM deliveries WHERE event_seq IN (SELECT seq FROM prune)");
            var pruned = Execute(c, t, "DELETE FROM events WHERE seq IN (SELECT seq FROM prune)");
            Execute(c, t, "DELETE FROM idempotency WHERE expires_at <= $now", ps);
            return pruned;
        }, cancellationToken);
}
