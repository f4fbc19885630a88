using System.Globalization;
using Herald.Storage.Nats.Internal;

namespace Herald.Storage.Nats;

// Replay and pruning read the delivered markers ({root}.done.{subscription token}, one per delivered delivery, with
// the event's sequence and time) and the events stream.
public sealed partial class NatsEventStore
{
    /// <inheritdoc/>
    public async ValueTask<int> ReplayAsync(string subscriptionId, DateTimeOffset since, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(subscriptionId);
        var token = StoreNames.Token(subscriptionId);
        var replay = Guid.NewGuid().ToString("N");
        var count = 0;
        await foreach (var marker in ReadAsync(_names.DeliveredStream, _names.Delivered(token), 1, cancellationToken).ConfigureAwait(false))
        {
            var headers = EventCodec.ParseRaw(marker.Hdrs);
            var time = new DateTimeOffset(long.Parse(EventCodec.Get(headers, EventCodec.Time), CultureInfo.InvariantCulture), TimeSpan.Zero);
            if (time < since)
            {
                continue;
            }

            var sequence = ParseSequence(headers);
            if (await GetAsync(_names.EventsStream, sequence, cancellationToken).ConfigureAwait(false) is { } stored)
            {
                var evt = EventCodec.Event(EventCodec.ParseRaw(stored.Hdrs), stored.Data.ToArray());
                await EnqueueAsync(subscriptionId, evt, sequence, $"replay:{replay}:{sequence}", cancellationToken).ConfigureAwait(false);
                count++;
            }

            await DeleteAsync(_names.DeliveredStream, marker.Seq, cancellationToken).ConfigureAwait(false);
        }

        // Dead letters of the subscription whose events are that recent are made due again too.
        await foreach (var stored in ReadAsync(_names.DeadLettersStream, _names.Root + ".dlq.*.*." + token, 1, cancellationToken).ConfigureAwait(false))
        {
            var document = StoreJson.Deserialize<DeadLetterDocument>(stored.Data.Span);
            if (document.SubscriptionId != subscriptionId || document.Time < since)
            {
                continue;
            }

            await EnqueueAsync(subscriptionId, document.Event, document.EventSequence, $"replay:{replay}:dead:{stored.Seq}", cancellationToken).ConfigureAwait(false);
            await DeleteAsync(_names.DeadLettersStream, stored.Seq, cancellationToken).ConfigureAwait(false);
            count++;
        }

        return count;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The events stream also expires events itself after <see cref="NatsStoreOptions.Retention"/> (its <c>MaxAge</c>);
    /// a delivery still queued keeps its own copy, so nothing undelivered is lost. Idempotency keys are forgotten by
    /// the server when the stream's duplicate window passes. This call reads every delivered marker.
    /// </remarks>
    public async ValueTask<int> PruneAsync(TimeSpan retention, int batch, CancellationToken cancellationToken = default)
    {
        var cutoff = _timeProvider.GetUtcNow() - retention;
        var markers = new Dictionary<ulong, List<(string Token, ulong Marker)>>();
        await foreach (var marker in ReadAsync(_names.DeliveredStream, _names.AllDelivered, 1, cancellationToken).ConfigureAwait(false))
        {
            var sequence = ParseSequence(EventCodec.ParseRaw(marker.Hdrs));
            if (!markers.TryGetValue(sequence, out var list))
            {
                markers[sequence] = list = [];
            }

            list.Add((StoreNames.LastToken(marker.Subject), marker.Seq));
        }

        var pruned = 0;
        await foreach (var stored in ReadAsync(_names.EventsStream, _names.AllEvents, 1, cancellationToken).ConfigureAwait(false))
        {
            if (pruned >= batch || stored.Time > cutoff)
            {
                break;
            }

            var subscriptions = EventCodec.SubscriptionIds(EventCodec.ParseRaw(stored.Hdrs));
            var delivered = markers.GetValueOrDefault(stored.Seq) ?? [];
            if (!subscriptions.All(s => delivered.Exists(m => m.Token == StoreNames.Token(s))))
            {
                continue;
            }

            await DeleteAsync(_names.EventsStream, stored.Seq, cancellationToken).ConfigureAwait(false);
            foreach (var (_, marker) in delivered)
            {
                await DeleteAsync(_names.DeliveredStream, marker, cancellationToken).ConfigureAwait(false);
            }

            pruned++;
        }

        return pruned;
    }
}
