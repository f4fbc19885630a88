using System.Text;
using Herald.Broker.Storage;
using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite;

public sealed partial class SqliteEventStore
{
    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<StoredDeadLetter>> ListDeadLettersAsync(string account, string workspace, string? subscriptionId, int limit, CancellationToken cancellationToken = default)
    {
        if (limit <= 0)
        {
            return [];
        }

        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, """
            SELECT d.id, d.subscription_id, d.dead_reason, d.dead_at,
                   e.id, e.account, e.workspace, e.sender, e.key, e.subject, e.body, e.time, e.traceparent
            FROM deliveries d JOIN events e ON e.seq = d.event_seq
            WHERE d.state = 3 AND e.account = $a AND e.workspace = $w AND ($sub IS NULL OR d.subscription_id = $sub)
            ORDER BY d.dead_at DESC, d.id DESC LIMIT $limit
            """,
            ("$a", account), ("$w", workspace), ("$sub", subscriptionId), ("$limit", limit));
        var letters = new List<(long Id, string Sub, string Reason, DateTimeOffset DeadAt, HeraldEvent Event)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
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
            await using var reader = await attemptsCommand.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                attempts.Add(new AttemptRecord(reader.GetInt32(0), FromUnixMs(reader.GetInt64(1)), TimeSpan.FromMilliseconds(reader.GetDouble(2)),
                    reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
            }

            result.Add(new StoredDeadLetter(letter.Id, letter.Sub, letter.Event, letter.Reason, letter.DeadAt, attempts));
        }

        return result;
    }

    /// <inheritdoc/>
    public ValueTask<int> RedriveAsync(string account, string workspace, RedriveSelector selector, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return WriteAsync((c, t) =>
        {
            var (where, parameters) = DeadLetterFilter(account, workspace, selector);
            parameters.Add(("$now", ToUnixMs(now)));
            var ps = parameters.ToArray();
            Execute(c, t, $"DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE {where})", ps);
            return Execute(c, t, $"UPDATE deliveries SET state = 0, attempts = 0, due_at = $now, dead_reason = NULL, dead_at = NULL WHERE {where}", ps);
        }, cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask<long> CountDeadLettersAsync(string account, string workspace, RedriveSelector selector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selector);
        var (where, parameters) = DeadLetterFilter(account, workspace, selector with { Limit = null });
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, $"SELECT count(*) FROM deliveries WHERE {where}", [.. parameters]);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc/>
    public ValueTask<int> PurgeAsync(string account, string workspace, RedriveSelector selector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return WriteAsync((c, t) =>
        {
            var (where, parameters) = DeadLetterFilter(account, workspace, selector);
            var ps = parameters.ToArray();
            Execute(c, t, $"DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE {where})", ps);
            return Execute(c, t, $"DELETE FROM deliveries WHERE {where}", ps);
        }, cancellationToken);
    }

    private static (string Where, List<(string Name, object? Value)> Parameters) DeadLetterFilter(string account, string workspace, RedriveSelector selector)
    {
        var parameters = new List<(string, object?)> { ("$a", account), ("$w", workspace) };
        var where = new StringBuilder("state = 3 AND event_seq IN (SELECT seq FROM events WHERE account = $a AND workspace = $w)");
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

        if (selector.DeliveryIds is { Count: > 0 } ids)
        {
            where.Append(" AND id IN (").AppendJoin(", ", ids.Select((id, i) =>
            {
                parameters.Add(($"$d{i}", id));
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
