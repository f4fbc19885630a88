using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite;

public sealed partial class SqliteEventStore
{
    /// <summary>
    /// How far an event's time may run behind a later-numbered event's for <see cref="FirstSeqAtOrAfter"/> to still find
    /// it: the event's time is taken when it is published, a moment before its append is committed, and a system clock
    /// may step back a little. An event that trails more than this is found by the next prune, or not by a replay.
    /// </summary>
    private const long SequenceTimeSlackMs = 60_000;

    /// <summary>
    /// The lowest event number and one past the highest, each in a subquery of its own: SQLite reads a MIN() or a MAX()
    /// off the end of the key only when it is the query's one aggregate; MIN() and MAX() in one SELECT scan the table.
    /// </summary>
    internal const string SequenceBoundsSql = "SELECT IFNULL((SELECT MIN(seq) FROM events), 1), IFNULL((SELECT MAX(seq) FROM events), 0) + 1";

    /// <inheritdoc/>
    public async ValueTask<int> ReplayAsync(string subscriptionId, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        var count = await WriteAsync((c, t) =>
        {
            var sinceMs = ToUnixMs(since);
            const string Matching = "subscription_id = $sub AND state IN (2, 3) AND event_seq IN (SELECT seq FROM events WHERE seq >= $from AND time >= $since)";
            (string, object?)[] ps = [("$sub", subscriptionId), ("$from", FirstSeqAtOrAfter(c, t, sinceMs - SequenceTimeSlackMs)), ("$since", sinceMs), ("$now", NowMs)];
            using (var count = Command(c, t, $"SELECT SUM(state = 2), SUM(state = 3) FROM deliveries WHERE {Matching}", ps))
            using (var reader = count.ExecuteReader())
            {
                reader.Read();
                var (delivered, dead) = reader.IsDBNull(0) ? (0L, 0L) : (reader.GetInt64(0), reader.GetInt64(1));
                Writer.Counts.Add(subscriptionId, pending: delivered + dead, delivered: -delivered, dead: -dead);
            }

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
            var before = now - (long)retention.TotalMilliseconds;
            (string, object?)[] ps = [("$below", FirstSeqAtOrAfter(c, t, before)), ("$before", before), ("$batch", batch)];
            Execute(c, t, """
                CREATE TEMP TABLE IF NOT EXISTS prune (seq INTEGER PRIMARY KEY);
                DELETE FROM prune;
                INSERT INTO prune (seq)
                SELECT seq FROM events e
                WHERE e.seq < $below AND e.time < $before
                  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.state <> 2)
                ORDER BY seq LIMIT $batch;
                """, ps);
            Execute(c, t, "DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_seq IN (SELECT seq FROM prune))");

            // Only events whose every delivery was delivered are pruned: each deleted row is one delivered fewer.
            using (var delete = Command(c, t, "DELETE FROM deliveries WHERE event_seq IN (SELECT seq FROM prune) RETURNING subscription_id"))
            using (var reader = delete.ExecuteReader())
            {
                while (reader.Read())
                {
                    Writer.Counts.Add(reader.GetString(0), delivered: -1);
                }
            }

            var pruned = Execute(c, t, "DELETE FROM events WHERE seq IN (SELECT seq FROM prune)");

            // Publishes with keys forget expired ones as they go; this forgets those left when publishing stopped, up to
            // ten batches at a time, reading only the oldest keys (never the whole table, which holds a dedupe window of
            // them: a scan of it held the writer for every other write).
            var forget = Writer.Prepared(ForgetExpiredKeys);
            forget.Bind(1, 10L * batch);
            forget.Bind(2, now);
            forget.Execute();
            return pruned;
        }, cancellationToken);

    /// <summary>
    /// The sequence number from which events were accepted at or after <paramref name="timeMs"/>: a binary search over the
    /// sequence, which follows the order events were accepted in (events have no index on their time, which would be a
    /// write on every publish). Every event numbered below it has a time before <paramref name="timeMs"/> unless the clock
    /// stepped back; one past every event when all are older.
    /// </summary>
    private static long FirstSeqAtOrAfter(SqliteConnection connection, SqliteTransaction? transaction, long timeMs)
    {
        using var bounds = Command(connection, transaction, SequenceBoundsSql);
        long low, high;
        using (var reader = bounds.ExecuteReader())
        {
            reader.Read();
            (low, high) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        using var probe = Command(connection, transaction, "SELECT seq, time FROM events WHERE seq >= $at ORDER BY seq LIMIT 1");
        var at = probe.Parameters.Add("$at", SqliteType.Integer);
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            at.Value = middle;
            using var reader = probe.ExecuteReader();
            if (reader.Read() && reader.GetInt64(1) < timeMs)
            {
                low = reader.GetInt64(0) + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
