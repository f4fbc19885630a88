using Herald.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Herald.Storage.Sqlite;

public sealed partial class SqliteEventStore
{
    /// <summary>
    /// Deletes the expired idempotency keys among the ?1 oldest written (by row id: a key written again gets a new one).
    /// Keys are written with the same window, so they expire in that order and the oldest rows are the expired ones; a
    /// key that outlives a newer one (the window was shortened) only holds those behind it until it expires itself.
    /// </summary>
    private const string ForgetExpiredKeys = "DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency ORDER BY rowid LIMIT ?1) AND expires_at <= ?2";

    private const string EventColumns = "e.id, e.account, e.workspace, e.sender, e.key, e.subject, e.body, e.time, e.traceparent, e.tracestate";

    /// <summary>A subscription's pending deliveries due by <c>$now</c>, oldest due first, with their events: read off the pending index in its order.</summary>
    internal const string DueDeliveriesSql = $"""
        SELECT d.id, d.attempts, {EventColumns}
        FROM deliveries d JOIN events e ON e.seq = d.event_seq
        WHERE d.subscription_id = $sub AND d.state = 0 AND d.due_at <= $now
        ORDER BY d.due_at, d.id LIMIT $limit
        """;

    /// <summary>When a subscription's next pending delivery falls due after <c>$now</c>.</summary>
    internal const string NextDueSql = "SELECT MIN(due_at) FROM deliveries WHERE subscription_id = $sub AND state = 0 AND due_at > $now";

    /// <summary>A removed subscription's undelivered deliveries become dead letters (rows a broker before in-memory leases marked in flight are made pending at open).</summary>
    internal const string RemoveSubscriptionSql = "UPDATE deliveries SET state = 3, dead_reason = $reason, dead_at = $now WHERE subscription_id = $sub AND state = 0";

    /// <inheritdoc/>
    public async ValueTask<AppendResult> AppendAsync(HeraldEvent evt, IReadOnlyList<string> subscriptionIds, string? idempotencyKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evt);
        ArgumentNullException.ThrowIfNull(subscriptionIds);
        var (result, deliveryIds) = await WriteAsync((_, _) => Append(evt, subscriptionIds, idempotencyKey), cancellationToken).ConfigureAwait(false);
        if (!result.Duplicate)
        {
            for (var i = 0; i < deliveryIds.Length; i++)
            {
                if (_queues.TryGetValue(subscriptionIds[i], out var queue))
                {
                    queue.Offer(deliveryIds[i], evt);
                }
            }
        }

        return result;
    }

    private (AppendResult Result, long[] DeliveryIds) Append(HeraldEvent evt, IReadOnlyList<string> subscriptionIds, string? idempotencyKey)
    {
        var now = NowMs;
        if (idempotencyKey is not null)
        {
            var find = Writer.Prepared("SELECT event_id, deliveries FROM idempotency WHERE account = ?1 AND workspace = ?2 AND sender = ?3 AND key = ?4 AND expires_at > ?5");
            find.Bind(1, evt.Account);
            find.Bind(2, evt.Workspace);
            find.Bind(3, evt.Sender);
            find.Bind(4, idempotencyKey);
            find.Bind(5, now);
            if (find.ReadFirst(static row => new AppendResult(Guid.Parse(raw.sqlite3_column_text(row, 0).utf8_to_string()), raw.sqlite3_column_int(row, 1), Duplicate: true)) is { } duplicate)
            {
                return (duplicate, []);
            }
        }

        var id = evt.Id.ToString();
        var insert = Writer.Prepared("INSERT INTO events (id, account, workspace, sender, key, subject, body, time, traceparent, tracestate) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
        insert.Bind(1, id);
        insert.Bind(2, evt.Account);
        insert.Bind(3, evt.Workspace);
        insert.Bind(4, evt.Sender);
        insert.Bind(5, evt.Key);
        insert.Bind(6, evt.Subject);
        insert.Bind(7, evt.Body.Span);
        insert.Bind(8, ToUnixMs(evt.Time));
        insert.Bind(9, evt.TraceParent);
        insert.Bind(10, evt.TraceState);
        var seq = insert.Insert();

        var deliveryIds = new long[subscriptionIds.Count];
        if (subscriptionIds.Count > 0)
        {
            var delivery = Writer.Prepared("INSERT INTO deliveries (event_seq, subscription_id, state, attempts, due_at) VALUES (?1, ?2, 0, 0, ?3)");
            for (var i = 0; i < subscriptionIds.Count; i++)
            {
                delivery.Bind(1, seq);
                delivery.Bind(2, subscriptionIds[i]);
                delivery.Bind(3, now);
                deliveryIds[i] = delivery.Insert();
                Writer.Counts.Add(subscriptionIds[i], pending: 1);
            }
        }

        if (idempotencyKey is not null)
        {
            var remember = Writer.Prepared("INSERT OR REPLACE INTO idempotency (account, workspace, sender, key, event_id, deliveries, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
            remember.Bind(1, evt.Account);
            remember.Bind(2, evt.Workspace);
            remember.Bind(3, evt.Sender);
            remember.Bind(4, idempotencyKey);
            remember.Bind(5, id);
            remember.Bind(6, subscriptionIds.Count);
            remember.Bind(7, now + (long)_options.DedupeWindow.TotalMilliseconds);
            remember.Execute();

            // Keys expire in the order they were written: each keyed publish forgets up to two expired ones from the
            // oldest end, so the table holds about one dedupe window of keys without a scan or an index on expiry.
            var forget = Writer.Prepared(ForgetExpiredKeys);
            forget.Bind(1, 2);
            forget.Bind(2, now);
            forget.Execute();
        }

        return (new AppendResult(evt.Id, subscriptionIds.Count, Duplicate: false), deliveryIds);
    }

    /// <inheritdoc/>
    public ValueTask<IDeliveryQueue> OpenQueueAsync(string subscriptionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        _ = Writer;
        var queue = new SqliteDeliveryQueue(this, subscriptionId);
        if (_queues.TryRemove(subscriptionId, out var previous))
        {
            previous.Close();
        }

        _queues[subscriptionId] = queue;
        return ValueTask.FromResult<IDeliveryQueue>(queue);
    }

    /// <inheritdoc/>
    /// <remarks>The SQLite store keeps nothing per subscription but its deliveries: the spec is not needed.</remarks>
    public ValueTask SubscriptionChangedAsync(SubscriptionSpec subscription, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc/>
    public async ValueTask<int> SubscriptionRemovedAsync(string subscriptionId, string reason, CancellationToken cancellationToken = default)
    {
        var count = await WriteAsync((c, t) =>
        {
            var dead = Execute(c, t, RemoveSubscriptionSql,
                ("$reason", reason), ("$now", NowMs), ("$sub", subscriptionId));
            Writer.Counts.Add(subscriptionId, pending: -dead, dead: dead);
            return dead;
        }, cancellationToken).ConfigureAwait(false);
        if (_queues.TryGetValue(subscriptionId, out var queue))
        {
            queue.Forget();
        }

        return count;
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyDictionary<string, DeliveryCounts>> CountAsync(IReadOnlyCollection<string> subscriptionIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscriptionIds);
        return ReadAsync<IReadOnlyDictionary<string, DeliveryCounts>>(async (connection, ct) =>
        {
            var counts = new Dictionary<string, DeliveryCounts>(StringComparer.Ordinal);
            // Each commit keeps these counts (Schema, DeliveryCountChanges): reading them reads one row, not the deliveries.
            await using var command = Command(connection, null, "SELECT pending, delivered, dead FROM subscription_counts WHERE subscription_id = $sub");
            var sub = command.Parameters.Add("$sub", SqliteType.Text);
            foreach (var subscriptionId in subscriptionIds)
            {
                sub.Value = subscriptionId;
                long pending = 0, delivered = 0, dead = 0;
                await using (var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false))
                {
                    if (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        (pending, delivered, dead) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
                    }
                }

                // Leases live in memory: a leased delivery is a pending row in the file.
                var leased = _queues.TryGetValue(subscriptionId, out var queue) ? Math.Min(queue.LeasedCount, pending) : 0;
                counts[subscriptionId] = new DeliveryCounts(pending - leased, leased, delivered, dead);
            }

            return counts;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<IReadOnlyDictionary<string, DateTimeOffset>> OldestUndeliveredAsync(IReadOnlyCollection<string> subscriptionIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(subscriptionIds);
        return ReadAsync<IReadOnlyDictionary<string, DateTimeOffset>>(async (connection, ct) =>
        {
            var oldest = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            // Events are numbered in the order they were accepted: the oldest is the one with the lowest number.
            await using var command = Command(connection, null, "SELECT e.time FROM events e WHERE e.seq = (SELECT MIN(event_seq) FROM deliveries WHERE subscription_id = $sub AND state = 0)");
            var sub = command.Parameters.Add("$sub", SqliteType.Text);
            foreach (var subscriptionId in subscriptionIds)
            {
                sub.Value = subscriptionId;
                if (await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is long time)
                {
                    oldest[subscriptionId] = FromUnixMs(time);
                }
            }

            return oldest;
        }, cancellationToken);
    }

    /// <summary>
    /// The earliest due time of a subscription's pending deliveries, if any (leased ones count as due at once). For
    /// tests and diagnostics; not part of the store contract.
    /// </summary>
    public ValueTask<DateTimeOffset?> NextDueAsync(string subscriptionId, CancellationToken cancellationToken = default) =>
        ReadAsync<DateTimeOffset?>(async (connection, ct) =>
        {
            await using var command = Command(connection, null, "SELECT MIN(due_at) FROM deliveries WHERE subscription_id = $sub AND state = 0", ("$sub", subscriptionId));
            var value = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
            return value is long ms ? FromUnixMs(ms) : null;
        }, cancellationToken);

    /// <summary>Reads up to <paramref name="limit"/> pending deliveries of a subscription due now, oldest due first, and the next due time after now.</summary>
    internal ValueTask<(List<QueuedDelivery> Due, long? NextDueMs)> ReadDueAsync(string subscriptionId, int limit, CancellationToken cancellationToken) =>
        ReadAsync(async (connection, ct) =>
        {
            var now = NowMs;
            var due = new List<QueuedDelivery>();
            await using (var command = Command(connection, null, DueDeliveriesSql, ("$sub", subscriptionId), ("$now", now), ("$limit", limit)))
            await using (var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    due.Add(new QueuedDelivery(reader.GetInt64(0), reader.GetInt32(1) + 1, ReadEvent(reader, 2)));
                }
            }

            await using var next = Command(connection, null, NextDueSql, ("$sub", subscriptionId), ("$now", now));
            return (due, await next.ExecuteScalarAsync(ct).ConfigureAwait(false) is long ms ? ms : (long?)null);
        }, cancellationToken);

    /// <summary>Writes settlements in one transaction; returns, for each, whether it changed the delivery (it was still pending).</summary>
    internal ValueTask<bool[]> WriteSettlementsAsync(string subscriptionId, IReadOnlyList<(long DeliveryId, Settlement Settlement)> settlements, CancellationToken cancellationToken) =>
        WriteAsync((_, _) =>
        {
            var now = NowMs;
            var applied = new bool[settlements.Count];
            for (var i = 0; i < settlements.Count; i++)
            {
                var (deliveryId, settlement) = settlements[i];
                var attempt = settlement.Attempt?.Attempt ?? settlement.Lease.Attempt;
                PreparedStatement update;
                switch (settlement.Kind)
                {
                    case SettlementKind.Delivered:
                        update = Writer.Prepared("UPDATE deliveries SET state = 2, attempts = ?2 WHERE id = ?1 AND state = 0");
                        break;
                    case SettlementKind.Retry:
                        update = Writer.Prepared("UPDATE deliveries SET attempts = ?2, due_at = ?3 WHERE id = ?1 AND state = 0");
                        update.Bind(3, DueMs(settlement.RetryIn));
                        break;
                    default:
                        update = Writer.Prepared("UPDATE deliveries SET state = 3, attempts = ?2, dead_reason = ?3, dead_at = ?4 WHERE id = ?1 AND state = 0");
                        update.Bind(3, settlement.DeadReason ?? "unknown");
                        update.Bind(4, now);
                        break;
                }

                update.Bind(1, deliveryId);
                update.Bind(2, attempt);
                applied[i] = update.Execute() == 1;
                if (applied[i] && settlement.Kind != SettlementKind.Retry)
                {
                    var delivered = settlement.Kind == SettlementKind.Delivered ? 1 : 0;
                    Writer.Counts.Add(subscriptionId, pending: -1, delivered: delivered, dead: 1 - delivered);
                }

                // Attempt records are kept for what may become a dead letter: a delivered attempt needs none.
                if (applied[i] && settlement.Kind != SettlementKind.Delivered && settlement.Attempt is { } record)
                {
                    var insert = Writer.Prepared("INSERT INTO attempts (delivery_id, attempt, started_at, duration_ms, status, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
                    insert.Bind(1, deliveryId);
                    insert.Bind(2, record.Attempt);
                    insert.Bind(3, ToUnixMs(record.StartedAt));
                    insert.Bind(4, record.Duration.TotalMilliseconds);
                    insert.Bind(5, record.Status);
                    insert.Bind(6, record.Error);
                    insert.Execute();
                }
            }

            return applied;
        }, cancellationToken);

    /// <summary>Tells the open queues of <paramref name="subscriptionIds"/> that the file holds deliveries due for them.</summary>
    private void MarkDue(IEnumerable<string> subscriptionIds)
    {
        foreach (var id in subscriptionIds)
        {
            if (_queues.TryGetValue(id, out var queue))
            {
                queue.MarkDirty();
            }
        }
    }

    internal void Closed(SqliteDeliveryQueue queue) => _queues.TryRemove(new KeyValuePair<string, SqliteDeliveryQueue>(queue.SubscriptionId, queue));

    internal TimeProvider TimeProvider => _timeProvider;

    internal int QueueMemoryCapacity => _options.QueueMemoryCapacity;

    private static HeraldEvent ReadEvent(SqliteDataReader reader, int first) => new(
        Guid.Parse(reader.GetString(first)),
        reader.GetString(first + 1),
        reader.GetString(first + 2),
        reader.GetString(first + 3),
        reader.GetString(first + 4),
        reader.GetString(first + 5),
        (byte[])reader.GetValue(first + 6),
        FromUnixMs(reader.GetInt64(first + 7)),
        reader.IsDBNull(first + 8) ? null : reader.GetString(first + 8))
    {
        TraceState = reader.IsDBNull(first + 9) ? null : reader.GetString(first + 9),
    };
}
