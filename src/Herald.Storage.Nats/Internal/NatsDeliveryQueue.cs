using System.Globalization;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Herald.Storage.Nats.Internal;

/// <summary>A lease on the JetStream store: an unacknowledged message of the subscription's consumer.</summary>
internal sealed class NatsLease(string subscriptionId, int attempt, HeraldEvent evt, INatsJSMsg<ReadOnlyMemory<byte>> message, ulong sequence, ulong eventSequence)
    : DeliveryLease(sequence.ToString(CultureInfo.InvariantCulture), subscriptionId, attempt, evt)
{
    public INatsJSMsg<ReadOnlyMemory<byte>> Message { get; } = message;

    public ulong Sequence { get; } = sequence;

    public ulong EventSequence { get; } = eventSequence;

    /// <summary>When the lease runs out unless extended (the store's clock).</summary>
    public DateTimeOffset Deadline { get; set; }

    /// <summary>When the server last heard that the attempt is still running.</summary>
    public DateTimeOffset LastProgress { get; set; }

    public LeaseState State { get; set; }
}

internal enum LeaseState
{
    Held,
    Settling,
    Gone,
}

/// <summary>
/// One subscription's queue on the JetStream store: a durable pull consumer on the deliveries stream. Leases are
/// unacknowledged messages; this process keeps each one alive (<c>+WPI</c>) until its deadline, and hands back the
/// ones that run out (<c>-NAK</c>), so a lease runs out when the caller says, not when the server's ack wait does.
/// </summary>
internal sealed class NatsDeliveryQueue(NatsEventStore store, string subscriptionId) : IDeliveryQueue
{
    private static readonly TimeSpan KeeperPeriod = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ShortestPull = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestPull = TimeSpan.FromSeconds(5);
    private static readonly AckOpts Confirmed = new() { DoubleAck = true };

    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, NatsLease> _held = [];
    private readonly CancellationTokenSource _stopping = new();
    private INatsJSConsumer? _consumer;
    private Task? _keeper;
    private int _disposed;

    public string SubscriptionId { get; } = subscriptionId;

    /// <summary>How many leases this process holds.</summary>
    public long HeldCount
    {
        get
        {
            lock (_gate)
            {
                return _held.Count;
            }
        }
    }

    public async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        _consumer = await store.EnsureQueueConsumerAsync(SubscriptionId, cancellationToken).ConfigureAwait(false);
        _keeper = KeepLeasesAsync(_stopping.Token);
    }

    public async ValueTask<IReadOnlyList<DeliveryLease>> LeaseAsync(int max, TimeSpan leaseFor, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        try
        {
            return await PullAsync(max, leaseFor, maxWait, cancellationToken).ConfigureAwait(false);
        }
        catch (NatsJSException) when (!cancellationToken.IsCancellationRequested)
        {
            // The consumer may have been deleted (the subscription was removed and declared again): make it again.
            _consumer = await store.EnsureQueueConsumerAsync(SubscriptionId, cancellationToken).ConfigureAwait(false);
            return await PullAsync(max, leaseFor, maxWait, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Pulls run to their end (a few seconds at most) even when the caller gives up, and what they brought is handed
    /// back: a pull cut short would leave the server sending deliveries to nobody, and they would wait out the ack
    /// wait. A cancelled call therefore returns within <see cref="LongestPull"/>. The long pull asks for no idle
    /// heartbeats, for the reason the store's fan-out pull gives.
    /// </summary>
    private async ValueTask<IReadOnlyList<DeliveryLease>> PullAsync(int max, TimeSpan leaseFor, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var consumer = _consumer!;
        var leases = new List<DeliveryLease>();
        await TakeAvailableAsync(consumer, max, leaseFor, leases).ConfigureAwait(false);
        var started = store.Clock.GetTimestamp();
        while (leases.Count == 0 && !cancellationToken.IsCancellationRequested)
        {
            // Nothing due now: a long pull for the first (the server answers as soon as one is due), then what else is.
            var left = (maxWait < ShortestPull ? ShortestPull : maxWait) - store.Clock.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                break;
            }

            var expires = TimeSpan.FromTicks(Math.Clamp(left.Ticks, ShortestPull.Ticks, LongestPull.Ticks));
            var first = await consumer.NextAsync<ReadOnlyMemory<byte>>(opts: new NatsJSNextOpts { Expires = expires, IdleHeartbeat = TimeSpan.Zero }, cancellationToken: CancellationToken.None).ConfigureAwait(false);
            if (first is { } message)
            {
                leases.Add(Hold(message, leaseFor));
                if (max > 1)
                {
                    await TakeAvailableAsync(consumer, max - 1, leaseFor, leases).ConfigureAwait(false);
                }
            }
        }

        if (cancellationToken.IsCancellationRequested)
        {
            await HandBackAsync(leases).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        return leases;
    }

    private async ValueTask TakeAvailableAsync(INatsJSConsumer consumer, int max, TimeSpan leaseFor, List<DeliveryLease> leases)
    {
        await foreach (var message in consumer.FetchNoWaitAsync<ReadOnlyMemory<byte>>(new NatsJSFetchOpts { MaxMsgs = max }, cancellationToken: CancellationToken.None).ConfigureAwait(false))
        {
            leases.Add(Hold(message, leaseFor));
        }
    }

    /// <summary>Gives leases back at once, as never taken (their attempt number still counts).</summary>
    private async ValueTask HandBackAsync(List<DeliveryLease> leases)
    {
        foreach (var lease in leases.Cast<NatsLease>())
        {
            lock (_gate)
            {
                lease.State = LeaseState.Gone;
                _held.Remove(lease.Sequence);
            }

            await TryAsync(lease.Message.NakAsync()).ConfigureAwait(false);
        }
    }

    private NatsLease Hold(INatsJSMsg<ReadOnlyMemory<byte>> message, TimeSpan leaseFor)
    {
        var metadata = message.Metadata ?? throw new InvalidDataException("A delivery message without JetStream metadata.");
        var headers = message.Headers ?? throw new InvalidDataException("A delivery message without headers.");
        var now = store.Clock.GetUtcNow();
        var lease = new NatsLease(SubscriptionId, checked((int)metadata.NumDelivered), EventCodec.Event(headers, message.Data.ToArray()), message, metadata.Sequence.Stream, NatsEventStore.ParseSequence(headers))
        {
            Deadline = now + leaseFor,
            LastProgress = now,
        };
        lock (_gate)
        {
            if (_held.Remove(lease.Sequence, out var earlier))
            {
                earlier.State = LeaseState.Gone;
            }

            _held[lease.Sequence] = lease;
        }

        return lease;
    }

    public ValueTask ExtendAsync(IReadOnlyList<DeliveryLease> leases, TimeSpan leaseFor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leases);
        var deadline = store.Clock.GetUtcNow() + leaseFor;
        lock (_gate)
        {
            foreach (var lease in leases)
            {
                if (lease is NatsLease held && held.State == LeaseState.Held && _held.TryGetValue(held.Sequence, out var current) && ReferenceEquals(current, held))
                {
                    held.Deadline = deadline;
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask SettleAsync(IReadOnlyList<Settlement> settlements, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settlements);
        var claimed = new List<(NatsLease Lease, Settlement Settlement)>(settlements.Count);
        lock (_gate)
        {
            foreach (var settlement in settlements)
            {
                if (settlement.Lease is NatsLease lease && lease.State == LeaseState.Held && _held.TryGetValue(lease.Sequence, out var current) && ReferenceEquals(current, lease))
                {
                    lease.State = LeaseState.Settling;
                    claimed.Add((lease, settlement));
                }
            }
        }

        var work = new Task[claimed.Count];
        for (var i = 0; i < claimed.Count; i++)
        {
            work[i] = SettleOneAsync(claimed[i].Lease, claimed[i].Settlement, cancellationToken).AsTask();
        }

        try
        {
            await Task.WhenAll(work).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException)
        {
            throw new StoreUnavailableException($"The NATS cluster did not confirm settlements of {SubscriptionId}: {ex.Message}", ex);
        }
        finally
        {
            lock (_gate)
            {
                for (var i = 0; i < claimed.Count; i++)
                {
                    var lease = claimed[i].Lease;
                    if (work[i].IsCompletedSuccessfully)
                    {
                        lease.State = LeaseState.Gone;
                        if (_held.TryGetValue(lease.Sequence, out var current) && ReferenceEquals(current, lease))
                        {
                            _held.Remove(lease.Sequence);
                        }
                    }
                    else if (lease.State == LeaseState.Settling)
                    {
                        lease.State = LeaseState.Held;
                    }
                }
            }
        }
    }

    private async ValueTask SettleOneAsync(NatsLease lease, Settlement settlement, CancellationToken cancellationToken)
    {
        switch (settlement.Kind)
        {
            case SettlementKind.Delivered:
                if (lease.Attempt > 1)
                {
                    await store.ForgetAttemptsAsync(lease.Sequence, cancellationToken).ConfigureAwait(false);
                }

                var marker = new NatsHeaders
                {
                    [EventCodec.EventId] = lease.Event.Id.ToString("D"),
                    [EventCodec.EventSequence] = lease.EventSequence.ToString(CultureInfo.InvariantCulture),
                    [EventCodec.Time] = lease.Event.Time.UtcTicks.ToString(CultureInfo.InvariantCulture),
                };
                var ack = await store.JetStream.PublishAsync(store.Names.Delivered(StoreNames.Token(SubscriptionId)), ReadOnlyMemory<byte>.Empty, headers: marker,
                    opts: new NatsJSPubOpts { MsgId = "done:" + lease.DeliveryId }, cancellationToken: cancellationToken).ConfigureAwait(false);
                NatsEventStore.EnsureStored(ack);
                await lease.Message.AckAsync(Confirmed, cancellationToken).ConfigureAwait(false);
                break;
            case SettlementKind.Retry:
                var history = await store.AttemptHistoryAsync(lease.Sequence, cancellationToken).ConfigureAwait(false);
                if (settlement.Attempt is { } attempt)
                {
                    history.Add(attempt);
                }

                await store.RecordAttemptsAsync(lease.Sequence, history, cancellationToken).ConfigureAwait(false);
                await lease.Message.NakAsync(settlement.RetryIn > TimeSpan.Zero ? new AckOpts { NakDelay = settlement.RetryIn, DoubleAck = true } : Confirmed, cancellationToken).ConfigureAwait(false);
                break;
            case SettlementKind.Dead:
                var attempts = await store.AttemptHistoryAsync(lease.Sequence, cancellationToken).ConfigureAwait(false);
                if (settlement.Attempt is { } last)
                {
                    attempts.Add(last);
                }

                await store.PublishDeadLetterAsync(SubscriptionId, settlement.DeadReason ?? "dead", attempts, lease.Event, lease.EventSequence, lease.Sequence, cancellationToken).ConfigureAwait(false);
                await lease.Message.AckTerminateAsync(Confirmed, cancellationToken).ConfigureAwait(false);
                await store.ForgetAttemptsAsync(lease.Sequence, cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(settlement), settlement.Kind, "Unknown settlement kind.");
        }
    }

    /// <summary>Drops every lease without a word to the server (the subscription's deliveries were dead-lettered).</summary>
    public void ForgetLeases()
    {
        lock (_gate)
        {
            foreach (var lease in _held.Values)
            {
                lease.State = LeaseState.Gone;
            }

            _held.Clear();
        }
    }

    private async Task KeepLeasesAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(KeeperPeriod, store.Clock);
        var progressEvery = store.Options.AckWait / 3;
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            {
                var now = store.Clock.GetUtcNow();
                List<NatsLease>? expired = null;
                List<NatsLease>? alive = null;
                lock (_gate)
                {
                    foreach (var lease in _held.Values)
                    {
                        if (lease.State != LeaseState.Held)
                        {
                            continue;
                        }

                        if (now >= lease.Deadline)
                        {
                            lease.State = LeaseState.Gone;
                            (expired ??= []).Add(lease);
                        }
                        else if (now - lease.LastProgress >= progressEvery)
                        {
                            lease.LastProgress = now;
                            (alive ??= []).Add(lease);
                        }
                    }

                    foreach (var lease in expired ?? [])
                    {
                        _held.Remove(lease.Sequence);
                    }
                }

                foreach (var lease in expired ?? [])
                {
                    await TryAsync(lease.Message.NakAsync(cancellationToken: stopping)).ConfigureAwait(false);
                }

                foreach (var lease in alive ?? [])
                {
                    await TryAsync(lease.Message.AckProgressAsync(cancellationToken: stopping)).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>A word to the server that may be lost: the server's ack wait covers it.</summary>
    private static async ValueTask TryAsync(ValueTask call)
    {
        try
        {
            await call.ConfigureAwait(false);
        }
        catch (NatsException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_keeper is not null)
        {
            await _keeper.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        List<NatsLease> held;
        lock (_gate)
        {
            held = [.. _held.Values.Where(l => l.State == LeaseState.Held)];
            foreach (var lease in held)
            {
                lease.State = LeaseState.Gone;
            }

            _held.Clear();
        }

        // Given up: each is due again when its lease would have run out.
        var now = store.Clock.GetUtcNow();
        foreach (var lease in held)
        {
            var left = lease.Deadline - now;
            await TryAsync(lease.Message.NakAsync(left > TimeSpan.Zero ? new AckOpts { NakDelay = left } : null)).ConfigureAwait(false);
        }

        store.QueueClosed(this);
        _stopping.Dispose();
    }
}
