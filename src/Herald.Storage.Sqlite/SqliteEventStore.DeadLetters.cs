using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite;

public sealed partial class SqliteEventStore
{
    private const string DeadLetterIdRule = "the SQLite store's dead-letter ids are the whole numbers 'herald deadletters list' shows.";

    /// <inheritdoc/>
    public ValueTask<IReadOnlyList<StoredDeadLetter>> ListDeadLettersAsync(string account, string workspace, string? subscriptionId, int limit, CancellationToken cancellationToken = default)
    {
        if (limit <= 0)
        {
            return ValueTask.FromResult<IReadOnlyList<StoredDeadLetter>>([]);
        }

        return ReadAsync<IReadOnlyList<StoredDeadLetter>>(async (connection, ct) =>
        {
            await using var command = Command(connection, null, $"""
                SELECT d.id, d.subscription_id, d.dead_reason, d.dead_at, {EventColumns}
                FROM deliveries d JOIN events e ON e.seq = d.event_seq
                WHERE d.state = 3 AND e.account = $a AND e.workspace = $w AND ($sub IS NULL OR d.subscription_id = $sub)
                ORDER BY d.dead_at DESC, d.id DESC LIMIT $limit
                """,
                ("$a", account), ("$w", workspace), ("$sub", subscriptionId), ("$limit", limit));
            var letters = new List<(long Id, string Sub, string Reason, DateTimeOffset DeadAt, HeraldEvent Event)>();
            await using (var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    letters.Add((reader.GetInt64(0), reader.GetString(1), reader.IsDBNull(2) ? "unknown" : reader.GetString(2),
                        FromUnixMs(reader.IsDBNull(3) ? 0 : reader.GetInt64(3)), ReadEvent(reader, 4)));
                }
            }

            await using var attemptsCommand = Command(connection, null, "SELECT attempt, started_at, duration_ms, status, error FROM attempts WHERE delivery_id = $id ORDER BY attempt, started_at");
            var idParameter = attemptsCommand.Parameters.Add("$id", SqliteType.Integer);
            var result = new List<StoredDeadLetter>(letters.Count);
            foreach (var letter in letters)
            {
                idParameter.Value = letter.Id;
                var attempts = new List<AttemptRecord>();
                await using var reader = await attemptsCommand.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    attempts.Add(new AttemptRecord(reader.GetInt32(0), FromUnixMs(reader.GetInt64(1)), TimeSpan.FromMilliseconds(reader.GetDouble(2)),
                        reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
                }

                result.Add(new StoredDeadLetter(letter.Id.ToString(CultureInfo.InvariantCulture), letter.Sub, letter.Event, letter.Reason, letter.DeadAt, attempts));
            }

            return result;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask<int> RedriveAsync(string account, string workspace, DeadLetterSelector selector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selector);
        var (where, parameters) = DeadLetterFilter(account, workspace, selector);
        var subscriptions = await WriteAsync((c, t) =>
        {
            parameters.Add(("$now", NowMs));
            var ps = parameters.ToArray();
            Execute(c, t, $"DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE {where})", ps);
            using var update = Command(c, t, $"UPDATE deliveries SET state = 0, attempts = 0, due_at = $now, dead_reason = NULL, dead_at = NULL WHERE {where} RETURNING subscription_id", ps);
            using var reader = update.ExecuteReader();
            var touched = new List<string>();
            while (reader.Read())
            {
                var subscriptionId = reader.GetString(0);
                touched.Add(subscriptionId);
                Writer.Counts.Add(subscriptionId, pending: 1, dead: -1);
            }

            return touched;
        }, cancellationToken).ConfigureAwait(false);
        MarkDue(subscriptions.Distinct(StringComparer.Ordinal));
        return subscriptions.Count;
    }

    /// <inheritdoc/>
    public ValueTask<long> CountDeadLettersAsync(string account, string workspace, DeadLetterSelector selector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selector);
        var (where, parameters) = DeadLetterFilter(account, workspace, selector with { Limit = null });
        return ReadAsync(async (connection, ct) =>
        {
            await using var command = Command(connection, null, $"SELECT count(*) FROM deliveries WHERE {where}", [.. parameters]);
            return (long)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask<int> PurgeAsync(string account, string workspace, DeadLetterSelector selector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selector);
        var (where, parameters) = DeadLetterFilter(account, workspace, selector);
        return WriteAsync((c, t) =>
        {
            var ps = parameters.ToArray();
            Execute(c, t, $"DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE {where})", ps);
            using var delete = Command(c, t, $"DELETE FROM deliveries WHERE {where} RETURNING subscription_id", ps);
            using var reader = delete.ExecuteReader();
            var purged = 0;
            while (reader.Read())
            {
                Writer.Counts.Add(reader.GetString(0), dead: -1);
                purged++;
            }

            return purged;
        }, cancellationToken);
    }

    /// <exception cref="InvalidStoreIdException">An id is not a whole number.</exception>
    private static (string Where, List<(string Name, object? Value)> Parameters) DeadLetterFilter(string account, string workspace, DeadLetterSelector selector)
    {
        var parameters = new List<(string, object?)> { ("$a", account), ("$w", workspace) };
        // Dead rows have an index of their own (deliveries_dead); each one's event is found by its number.
        var where = new StringBuilder("state = 3 AND EXISTS (SELECT 1 FROM events e WHERE e.seq = deliveries.event_seq AND e.account = $a AND e.workspace = $w)");
        if (selector.SubscriptionId is not null)
        {
            where.Append(" AND subscription_id = $sub");
            parameters.Add(("$sub", selector.SubscriptionId));
        }

        if (selector.DeadSince is { } since)
        {
            where.Append(" AND dead_at >= $since");
            parameters.Add(("$since", ToUnixMs(since)));
        }

        if (selector.Ids is { Count: > 0 } ids)
        {
            where.Append(" AND id IN (").AppendJoin(", ", ids.Select((id, i) =>
            {
                if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
                {
                    throw new InvalidStoreIdException(id, DeadLetterIdRule);
                }

                parameters.Add(($"$d{i}", parsed));
                return $"$d{i}";
            })).Append(')');
        }

        if (selector.Limit is { } limit)
        {
            parameters.Add(("$limit", limit));
            return ($"id IN (SELECT id FROM deliveries WHERE {where} ORDER BY dead_at, id LIMIT $limit)", parameters);
        }

        return (where.ToString(), parameters);
    }
}
