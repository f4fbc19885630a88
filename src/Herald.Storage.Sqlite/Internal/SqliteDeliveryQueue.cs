using System.Globalization;

namespace Herald.Storage.Sqlite.Internal;

/// <summary>A pending delivery known to a queue: its row id, the attempt its next lease is for, and its event.</summary>
internal readonly record struct QueuedDelivery(long Id, int Attempt, HeraldEvent Event);

/// <summary>A lease handed out by a <see cref="SqliteDeliveryQueue"/>; held while it is the queue's lease of its row.</summary>
internal sealed class SqliteLease(long id, string subscriptionId, int attempt, HeraldEvent evt, long expiresAtMs)
    : DeliveryLease(id.ToString(CultureInfo.InvariantCulture), subscriptionId, attempt, evt)
{
    public long Id { get; } = id;

    /// <summary>When the lease runs out, in store milliseconds (guarded by the queue's lock).</summary>
    public long ExpiresAtMs { get; set; } = expiresAtMs;

    /// <summary>Its settlement is being written: it cannot run out meanwhile (guarded by the queue's lock).</summary>
    public bool Settling { get; set; }
}

/// <summary>
/// One subscription's queue over the SQLite file. The file is the truth (a leased delivery is a pending row); the
/// queue keeps in memory the leases it handed out and the deliveries ready to lease: freshly committed ones offered
/// by appends, and batches read from the file when it may hold more (at open, after a redrive or replay, when more
/// were appended than memory holds) or when a retry falls due.
/// </summary>
internal sealed class SqliteDeliveryQueue : IDeliveryQueue
{
    private readonly SqliteEventStore _store;
    private readonly TimeProvider _clock;
    private readonly int _capacity;
    private readonly Lock _gate = new();
    private readonly Queue<QueuedDelivery> _ready = new();
    private readonly HashSet<long> _readyIds = [];
    private readonly Queue<QueuedDelivery> _expired = new();
    private readonly Dictionary<long, SqliteLease> _leased = [];
    private readonly SemaphoreSlim _signal = new(0, 1);
    private int _signalled;

    // The file may hold due rows that memory does not: read it before waiting.
    private bool _dirty = true;
    private int _dirtyVersion;

    // The highest row id a read of the file has returned: a row at or below it was visible to that read.
    private long _readHighWater;

    // The earliest due time of a pending row that memory does not hold; retries settled during a read are kept apart.
    private long? _nextDueMs;
    private long? _retryDueDuringRead;
    private bool _reading;

    // An append committed while a read was under way, and not kept in memory: the read may not have seen it.
    private bool _offerMissedDuringRead;

    // A read of the file races with settlements: a row it saw pending may be settled before its result is merged.
    private readonly HashSet<long> _settledDuringRead = [];
    private int _forgetEpoch;
    private bool _closed;

    public SqliteDeliveryQueue(SqliteEventStore store, string subscriptionId)
    {
        _store = store;
        _clock = store.TimeProvider;
        _capacity = store.QueueMemoryCapacity;
        SubscriptionId = subscriptionId;
    }

    public string SubscriptionId { get; }

    /// <summary>How many leases are held now.</summary>
    public int LeasedCount
    {
        get
        {
            lock (_gate)
            {
                return _leased.Count;
            }
        }
    }

    private long NowMs => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>A delivery that was just committed, due now: kept in memory when the queue holds everything older.</summary>
    public void Offer(long id, HeraldEvent evt)
    {
        lock (_gate)
        {
            if (_closed || id <= _readHighWater || _readyIds.Contains(id) || _leased.ContainsKey(id))
            {
                return;
            }

            if (_dirty)
            {
                // The file holds more than memory: the next read finds this row, but a read already under way may
                // have started before the row was committed, so it must not mark the queue clean.
                _offerMissedDuringRead |= _reading;
                return;
            }

            if (_ready.Count >= _capacity)
            {
                MarkDirtyLocked();
            }
            else
            {
                _ready.Enqueue(new QueuedDelivery(id, 1, evt));
                _readyIds.Add(id);
            }
        }

        Signal();
    }

    /// <summary>The file holds due deliveries memory may not (a redrive or a replay wrote them).</summary>
    public void MarkDirty()
    {
        lock (_gate)
        {
            MarkDirtyLocked();
        }

        Signal();
    }

    /// <summary>The subscription was removed: forget every lease and ready delivery (their rows are dead now).</summary>
    public void Forget()
    {
        lock (_gate)
        {
            _ready.Clear();
            _readyIds.Clear();
            _expired.Clear();
            _leased.Clear();
            _forgetEpoch++;
            MarkDirtyLocked();
        }

        Signal();
    }

    public async ValueTask<IReadOnlyList<DeliveryLease>> LeaseAsync(int max, TimeSpan leaseFor, TimeSpan maxWait, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        var leaseMs = (long)Math.Ceiling(leaseFor.TotalMilliseconds);
        var deadline = NowMs + (long)Math.Ceiling(Math.Max(0, maxWait.TotalMilliseconds));
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var now = NowMs;
            int version;
            int epoch;
            int readLimit;
            long wakeAt;
            lock (_gate)
            {
                if (_closed)
                {
                    return [];
                }

                ExpireLocked(now);
                var taken = TakeLocked(max, now + leaseMs);
                if (taken.Count > 0)
                {
                    return taken;
                }

                var read = _dirty || _nextDueMs <= now;
                version = _dirtyVersion;
                epoch = _forgetEpoch;
                readLimit = _capacity + _leased.Count;
                wakeAt = Math.Min(deadline, Math.Min(_nextDueMs ?? long.MaxValue, EarliestExpiryLocked()));
                if (read)
                {
                    _reading = true;
                    _offerMissedDuringRead = false;
                    _retryDueDuringRead = null;
                    _settledDuringRead.Clear();
                    wakeAt = -1;
                }
            }

            if (wakeAt < 0)
            {
                await ReadFileAsync(version, epoch, readLimit, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (now >= deadline)
            {
                return [];
            }

            await WaitAsync(TimeSpan.FromMilliseconds(Math.Max(1, wakeAt - now)), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ReadFileAsync(int version, int epoch, int limit, CancellationToken cancellationToken)
    {
        List<QueuedDelivery> due;
        long? nextDue;
        try
        {
            (due, nextDue) = await _store.ReadDueAsync(SubscriptionId, limit, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_gate)
            {
                _reading = false;
            }

            throw;
        }

        lock (_gate)
        {
            _reading = false;
            if (epoch != _forgetEpoch)
            {
                // The subscription was removed while reading: what was read is dead now. Read again.
                _settledDuringRead.Clear();
                return;
            }

            foreach (var delivery in due)
            {
                _readHighWater = Math.Max(_readHighWater, delivery.Id);
                if (!_leased.ContainsKey(delivery.Id) && !_settledDuringRead.Contains(delivery.Id) && _readyIds.Add(delivery.Id))
                {
                    _ready.Enqueue(delivery);
                }
            }

            _settledDuringRead.Clear();

            var more = due.Count >= limit;
            if (version == _dirtyVersion && !more && !_offerMissedDuringRead)
            {
                _dirty = false;
            }

            _offerMissedDuringRead = false;

            _nextDueMs = Min(nextDue, _retryDueDuringRead);
            _retryDueDuringRead = null;
        }
    }

    public ValueTask ExtendAsync(IReadOnlyList<DeliveryLease> leases, TimeSpan leaseFor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(leases);
        var until = NowMs + (long)Math.Ceiling(leaseFor.TotalMilliseconds);
        lock (_gate)
        {
            foreach (var lease in leases)
            {
                if (IsHeldLocked(lease, out var held))
                {
                    held.ExpiresAtMs = Math.Max(held.ExpiresAtMs, until);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask SettleAsync(IReadOnlyList<Settlement> settlements, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settlements);
        var held = new List<(long DeliveryId, Settlement Settlement)>(settlements.Count);
        lock (_gate)
        {
            foreach (var settlement in settlements)
            {
                if (IsHeldLocked(settlement.Lease, out var lease) && !lease.Settling)
                {
                    lease.Settling = true;
                    held.Add((lease.Id, settlement));
                }
            }
        }

        if (held.Count == 0)
        {
            return;
        }

        bool[] applied;
        try
        {
            applied = await _store.WriteSettlementsAsync(SubscriptionId, held, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_gate)
            {
                foreach (var (_, settlement) in held)
                {
                    ((SqliteLease)settlement.Lease).Settling = false;
                }
            }

            throw;
        }

        lock (_gate)
        {
            for (var i = 0; i < held.Count; i++)
            {
                var (id, settlement) = held[i];
                if (_leased.TryGetValue(id, out var lease) && ReferenceEquals(lease, settlement.Lease))
                {
                    _leased.Remove(id);
                }

                if (_reading)
                {
                    _settledDuringRead.Add(id);
                }

                if (applied[i] && settlement.Kind == SettlementKind.Retry)
                {
                    var due = _store.DueMs(settlement.RetryIn);
                    _nextDueMs = Min(_nextDueMs, due);
                    if (_reading)
                    {
                        _retryDueDuringRead = Min(_retryDueDuringRead, due);
                    }
                }
            }
        }

        Signal();
    }

    /// <summary>Stops handing out leases; those held are given up (their rows stay pending in the file).</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
        }

        Signal();
    }

    public ValueTask DisposeAsync()
    {
        Close();
        _store.Closed(this);
        return ValueTask.CompletedTask;
    }

    private void MarkDirtyLocked()
    {
        _dirty = true;
        _dirtyVersion++;
    }

    private bool IsHeldLocked(DeliveryLease lease, out SqliteLease held)
    {
        if (lease is SqliteLease mine && _leased.TryGetValue(mine.Id, out var current) && ReferenceEquals(current, mine))
        {
            held = mine;
            return true;
        }

        held = null!;
        return false;
    }

    private List<DeliveryLease> TakeLocked(int max, long expiresAtMs)
    {
        var taken = new List<DeliveryLease>(Math.Min(max, _expired.Count + _ready.Count));
        while (taken.Count < max && (_expired.TryDequeue(out var next) || _ready.TryDequeue(out next)))
        {
            _readyIds.Remove(next.Id);
            var lease = new SqliteLease(next.Id, SubscriptionId, next.Attempt, next.Event, expiresAtMs);
            _leased[next.Id] = lease;
            taken.Add(lease);
        }

        return taken;
    }

    /// <summary>Leases that ran out (the attempt is lost or stuck) are due again, as their next attempt.</summary>
    private void ExpireLocked(long now)
    {
        if (_leased.Count == 0 || EarliestExpiryLocked() > now)
        {
            return;
        }

        foreach (var lease in _leased.Values.Where(l => !l.Settling && l.ExpiresAtMs <= now).ToList())
        {
            _leased.Remove(lease.Id);
            _readyIds.Add(lease.Id);
            _expired.Enqueue(new QueuedDelivery(lease.Id, lease.Attempt + 1, lease.Event));
        }
    }

    private long EarliestExpiryLocked()
    {
        var earliest = long.MaxValue;
        foreach (var lease in _leased.Values)
        {
            if (!lease.Settling && lease.ExpiresAtMs < earliest)
            {
                earliest = lease.ExpiresAtMs;
            }
        }

        return earliest;
    }

    private void Signal()
    {
        if (Interlocked.Exchange(ref _signalled, 1) == 0)
        {
            _signal.Release();
        }
    }

    private async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(timeout, _clock);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        try
        {
            await _signal.WaitAsync(linked.Token).ConfigureAwait(false);
            Interlocked.Exchange(ref _signalled, 0);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The timeout passed.
        }
    }

    private static long? Min(long? a, long? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);
}
