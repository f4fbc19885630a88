using Herald.Broker.Storage;
using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite;

public sealed partial class SqliteEventStore
{
    /// <inheritdoc/>
    public ValueTask<AppendResult> AppendAsync(HeraldEvent evt, IReadOnlyList<string> subscriptionIds, string? idempotencyKey, DateTimeOffset idempotencyExpiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evt);
        ArgumentNullException.ThrowIfNull(subscriptionIds);
        return WriteAsync((c, t) => Append(c, t, evt, subscriptionIds, idempotencyKey, idempotencyExpiresAt), cancellationToken);
    }

    private static AppendResult Append(SqliteConnection c, SqliteTransaction t, HeraldEvent evt, IReadOnlyList<string> subscriptionIds, string? idempotencyKey, DateTimeOffset idempotencyExpiresAt)
    {
        var now = ToUnixMs(evt.Time);
        if (idempotencyKey is not null)
        {
            using var find = Command(c, t, "SELECT event_id, deliveries FROM idempotency WHERE account = $a AND workspace = $w AND sender = $s AND key = $k AND expires_at > $now",
                ("$a", evt.Account), ("$w", evt.Workspace), ("$s", evt.Sender), ("$k", idempotencyKey), ("$now", now));
            using var reader = find.ExecuteReader();
            if (reader.Read())
            {
                return new AppendResult(Guid.Parse(reader.GetString(0)), reader.GetInt32(1), Duplicate: true);
            }
        }

        using (var insert = Command(c, t, "INSERT INTO events (id, account, workspace, sender, key, subject, body, time, traceparent) VALUES ($id, $a, $w, $s, $k, $subj, $body, $time, $tp)",
            ("$id", evt.Id.ToString()), ("$a", evt.Account), ("$w", evt.Workspace), ("$s", evt.Sender), ("$k", evt.Key), ("$subj", evt.Subject),
            ("$body", evt.Body.ToArray()), ("$time", now), ("$tp", evt.TraceParent)))
        {
            insert.ExecuteNonQuery();
        }

        if (subscriptionIds.Count > 0)
        {
            using var delivery = Command(c, t, "INSERT INTO deliveries (event_seq, subscription_id, state, attempts, due_at) VALUES ((SELECT seq FROM events WHERE id = $id), $sub, 0, 0, $due)");
            var subscription = delivery.Parameters.Add("$sub", SqliteType.Text);
            delivery.Parameters.AddWithValue("$id", evt.Id.ToString());
            delivery.Parameters.AddWithValue("$due", now);
            foreach (var subscriptionId in subscriptionIds)
            {
                subscription.Value = subscriptionId;
                delivery.ExecuteNonQuery();
            }
        }

        if (idempotencyKey is not null)
        {
            Execute(c, t, "INSERT OR REPLACE INTO idempotency (account, workspace, sender, key, event_id, deliveries, expires_at) VALUES ($a, $w, $s, $k, $id, $n, $exp)",
                ("$a", evt.Account), ("$w", evt.Workspace), ("$s", evt.Sender), ("$k", idempotencyKey), ("$id", evt.Id.ToString()),
                ("$n", subscriptionIds.Count), ("$exp", ToUnixMs(idempotencyExpiresAt)));
        }

        return new AppendResult(evt.Id, subscriptionIds.Count, Duplicate: false);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<LeasedDelivery>> LeaseAsync(string subscriptionId, int max, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        return WriteAsync<IReadOnlyList<LeasedDelivery>>((c, t) =>
        {
            using var command = Command(c, t, """
                UPDATE deliveries SET state = 1, attempts = attempts + 1, due_at = $until
                WHERE id IN (SELECT id FROM deliveries WHERE subscription_id = $sub AND state IN (0, 1) AND due_at <= $now ORDER BY due_at, id LIMIT $max)
                RETURNING id, event_seq, attempts
                """,
                ("$sub", subscriptionId), ("$now", ToUnixMs(now)), ("$until", ToUnixMs(leaseUntil)), ("$max", max));
            var leased = new List<(long Id, long Seq, int Attempt)>();
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    leased.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetInt32(2)));
                }
            }

            if (leased.Count == 0)
            {
                return [];
            }

            var events = ReadEvents(c, t, leased.Select(l => l.Seq).Distinct().ToList());
            return leased.OrderBy(l => l.Id).Select(l => new LeasedDelivery(l.Id, subscriptionId, l.Attempt, events[l.Seq])).ToList();
        }, cancellationToken);
    }

    private static Dictionary<long, HeraldEvent> ReadEvents(SqliteConnection c, SqliteTransaction? t, IReadOnlyList<long> sequences)
    {
        var events = new Dictionary<long, HeraldEvent>(sequences.Count);
        using var command = Command(c, t, "SELECT seq, id, account, workspace, sender, key, subject, body, time, traceparent FROM events WHERE seq = $seq");
        var seq = command.Parameters.Add("$seq", SqliteType.Integer);
        foreach (var s in sequences)
        {
            seq.Value = s;
            using var reader = command.ExecuteReader();
            if (reader.Read())
            {
                events[s] = ReadEvent(reader, 1);
            }
        }

        return events;
    }

    private static HeraldEvent ReadEvent(SqliteDataReader reader, int first) => new(
        Guid.Parse(reader.GetString(first)),
        reader.GetString(first + 1),
        reader.GetString(first + 2),
        reader.GetString(first + 3),
        reader.GetString(first + 4),
        reader.GetString(first + 5),
        (byte[])reader.GetValue(first + 6),
        FromUnixMs(reader.GetInt64(first + 7)),
        reader.IsDBNull(first + 8) ? null : reader.GetString(first + 8));

    /// <inheritdoc/>
    public ValueTask RecordOutcomesAsync(IReadOnlyList<DeliveryOutcome> outcomes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        if (outcomes.Count == 0)
        {
            return ValueTask.CompletedTask;
        }

        return new ValueTask(WriteAsync((c, t) =>
        {
            using var update = Command(c, t, "UPDATE deliveries SET state = $state, due_at = COALESCE($due, due_at), dead_reason = $reason, dead_at = $deadAt WHERE id = $id");
            var state = update.Parameters.Add("$state", SqliteType.Integer);
            var due = update.Parameters.Add("$due", SqliteType.Integer);
            var reason = update.Parameters.Add("$reason", SqliteType.Text);
            var deadAt = update.Parameters.Add("$deadAt", SqliteType.Integer);
            var id = update.Parameters.Add("$id", SqliteType.Integer);
            using var attempt = Command(c, t, "INSERT INTO attempts (delivery_id, attempt, started_at, duration_ms, status, error) VALUES ($id, $n, $at, $ms, $status, $error)");
            var aId = attempt.Parameters.Add("$id", SqliteType.Integer);
            var aN = attempt.Parameters.Add("$n", SqliteType.Integer);
            var aAt = attempt.Parameters.Add("$at", SqliteType.Integer);
            var aMs = attempt.Parameters.Add("$ms", SqliteType.Real);
            var aStatus = attempt.Parameters.Add("$status", SqliteType.Integer);
            var aError = attempt.Parameters.Add("$error", SqliteType.Text);
            foreach (var outcome in outcomes)
            {
                state.Value = (int)outcome.NewState;
                due.Value = outcome.RetryAt is { } retryAt ? ToUnixMs(retryAt) : DBNull.Value;
                reason.Value = (object?)outcome.DeadReason ?? DBNull.Value;
                deadAt.Value = outcome.NewState == DeliveryState.Dead ? ToUnixMs(outcome.At) : DBNull.Value;
                id.Value = outcome.DeliveryId;
                update.ExecuteNonQuery();
                if (outcome.Attempt is { } record)
                {
                    aId.Value = outcome.DeliveryId;
                    aN.Value = record.Attempt;
                    aAt.Value = ToUnixMs(record.StartedAt);
                    aMs.Value = record.Duration.TotalMilliseconds;
                    aStatus.Value = (object?)record.Status ?? DBNull.Value;
                    aError.Value = (object?)record.Error ?? DBNull.Value;
                    attempt.ExecuteNonQuery();
                }
            }

            return true;
        }, cancellationToken).AsTask());
    }

    /// <inheritdoc/>
    public async ValueTask<DateTimeOffset?> NextDueAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT MIN(due_at) FROM deliveries WHERE subscription_id = $sub AND state IN (0, 1)", ("$sub", subscriptionId));
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is long ms ? FromUnixMs(ms) : null;
    }

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyDictionary<string, DeliveryCounts>> CountAsync(IReadOnlyCollection<string> subscriptionIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscriptionIds);
        var counts = new Dictionary<string, DeliveryCounts>(StringComparer.Ordinal);
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT state, COUNT(*) FROM deliveries WHERE subscription_id = $sub GROUP BY state");
        var sub = command.Parameters.Add("$sub", SqliteType.Text);
        foreach (var subscriptionId in subscriptionIds)
        {
            sub.Value = subscriptionId;
            var byState = new long[4];
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var state = reader.GetInt32(0);
                if (state is >= 0 and < 4)
                {
                    byState[state] = reader.GetInt64(1);
                }
            }

            counts[subscriptionId] = new DeliveryCounts(byState[0], byState[1], byState[2], byState[3]);
        }

        return counts;
    }

    /// <inheritdoc/>
    public ValueTask<int> DeadLetterSubscriptionAsync(string subscriptionId, string reason, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        WriteAsync((c, t) => Execute(c, t, "UPDATE deliveries SET state = 3, dead_reason = $reason, dead_at = $now WHERE subscription_id = $sub AND state IN (0, 1)",
            ("$reason", reason), ("$now", ToUnixMs(now)), ("$sub", subscriptionId)), cancellationToken);
}
