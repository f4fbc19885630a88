using System.Globalization;
using Herald.Storage.Nats.Internal;
using NATS.Client.JetStream.Models;

namespace Herald.Storage.Nats;

// Dead letters: one JSON document per letter on {root}.dlq.{account}.{workspace}.{subscription token}; the id is its
// sequence in the dead-letter stream. Selections read the workspace's subjects oldest first.
public sealed partial class NatsEventStore
{
    private const string DeadLetterIdRule = "a dead-letter id of the NATS store is a positive whole number (its sequence in the dead-letter stream)";

    /// <inheritdoc/>
    public async ValueTask<IReadOnlyList<StoredDeadLetter>> ListDeadLettersAsync(string account, string workspace, string? subscriptionId, int limit, CancellationToken cancellationToken = default)
    {
        var subject = subscriptionId is null ? _names.WorkspaceDeadLetters(account, workspace) : _names.DeadLetters(account, workspace, StoreNames.Token(subscriptionId));
        var newest = new Queue<StoredDeadLetter>();
        await foreach (var stored in ReadAsync(_names.DeadLettersStream, subject, 1, cancellationToken).ConfigureAwait(false))
        {
            newest.Enqueue(Letter(stored));
            if (newest.Count > limit)
            {
                newest.Dequeue();
            }
        }

        return [.. newest.Reverse()];
    }

    /// <inheritdoc/>
    public async ValueTask<int> RedriveAsync(string account, string workspace, DeadLetterSelector selector, CancellationToken cancellationToken = default)
    {
        var count = 0;
        foreach (var stored in await SelectAsync(account, workspace, selector, cancellationToken).ConfigureAwait(false))
        {
            var document = StoreJson.Deserialize<DeadLetterDocument>(stored.Data.Span);
            await EnqueueAsync(document.SubscriptionId, document.Event, document.EventSequence, "redrive:" + stored.Seq.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
            await DeleteAsync(_names.DeadLettersStream, stored.Seq, cancellationToken).ConfigureAwait(false);
            count++;
        }

        return count;
    }

    /// <inheritdoc/>
    public async ValueTask<long> CountDeadLettersAsync(string account, string workspace, DeadLetterSelector selector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(selector);
        return (await SelectAsync(account, workspace, selector with { Limit = null }, cancellationToken).ConfigureAwait(false)).Count;
    }

    /// <inheritdoc/>
    public async ValueTask<int> PurgeAsync(string account, string workspace, DeadLetterSelector selector, CancellationToken cancellationToken = default)
    {
        var count = 0;
        foreach (var stored in await SelectAsync(account, workspace, selector, cancellationToken).ConfigureAwait(false))
        {
            if (await DeleteAsync(_names.DeadLettersStream, stored.Seq, cancellationToken).ConfigureAwait(false))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>The dead letters of (account, workspace) that match, dead longest first, at most the selector's limit.</summary>
    private async ValueTask<List<StoredMessage>> SelectAsync(string account, string workspace, DeadLetterSelector selector, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(selector);
        HashSet<ulong>? ids = null;
        if (selector.Ids is { } given)
        {
            ids = [];
            foreach (var id in given)
            {
                if (!ulong.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) || sequence == 0)
                {
                    throw new InvalidStoreIdException(id, DeadLetterIdRule);
                }

                ids.Add(sequence);
            }
        }

        var subject = selector.SubscriptionId is null ? _names.WorkspaceDeadLetters(account, workspace) : _names.DeadLetters(account, workspace, StoreNames.Token(selector.SubscriptionId));
        var selected = new List<StoredMessage>();
        if (ids is not null)
        {
            foreach (var sequence in ids.Order())
            {
                if (await GetAsync(_names.DeadLettersStream, sequence, cancellationToken).ConfigureAwait(false) is { } stored && Matches(stored, subject, selector))
                {
                    selected.Add(stored);
                }
            }
        }
        else
        {
            await foreach (var stored in ReadAsync(_names.DeadLettersStream, subject, 1, cancellationToken).ConfigureAwait(false))
            {
                if (Matches(stored, subject, selector))
                {
                    selected.Add(stored);
                }
            }
        }

        return selector.Limit is { } limit && selected.Count > limit ? selected[..limit] : selected;
    }

    private static bool Matches(StoredMessage stored, string subject, DeadLetterSelector selector)
    {
        var inScope = subject.EndsWith(".*", StringComparison.Ordinal)
            ? stored.Subject.StartsWith(subject[..^1], StringComparison.Ordinal)
            : stored.Subject == subject;
        if (!inScope)
        {
            return false;
        }

        return selector.DeadSince is not { } since || StoreJson.Deserialize<DeadLetterDocument>(stored.Data.Span).DeadAt >= since;
    }

    private static StoredDeadLetter Letter(StoredMessage stored)
    {
        var document = StoreJson.Deserialize<DeadLetterDocument>(stored.Data.Span);
        return new StoredDeadLetter(stored.Seq.ToString(CultureInfo.InvariantCulture), document.SubscriptionId, document.Event, document.Reason, document.DeadAt, document.Attempts);
    }
}
