using System.Diagnostics;
using System.Text;
using Herald.Delivery;

namespace Herald.Storage.Compliance;

/// <summary>
/// The base of every compliance test class: a fresh store location per test, and helpers written against the store
/// contract only.
/// </summary>
/// <remarks>
/// <para>
/// Time is real. A store may keep its clock on a server (JetStream does), so no fake clock can drive it: durations
/// are short (leases of 400 ms, retries of 250 ms), conditions are polled with a deadline, and a timing assertion is
/// only ever a lower bound ("not handed out before the delay had passed"), checked when the thing happens, so a slow
/// machine can make a test slower but never make it fail.
/// </para>
/// <para>
/// Ids are opaque: delivery and dead-letter ids are compared and passed back, never parsed. Deliveries are matched to
/// events through <see cref="DeliveryLease.Event"/>, since a redriven or replayed delivery may have a new id.
/// </para>
/// </remarks>
public abstract class StoreTestBase : IAsyncLifetime
{
    protected const string Account = "acme";

    protected const string Workspace = "dev";

    /// <summary>The publishing app of the events the tests make.</summary>
    protected const string Sender = "vtex.events-example";

    /// <summary>The subscribing app of the subscriptions the tests declare.</summary>
    protected const string SubscriberApp = "vtex.listener";

    /// <summary>A lease no test outlives.</summary>
    protected static readonly TimeSpan LongLease = TimeSpan.FromMinutes(1);

    /// <summary>A lease a test waits out.</summary>
    protected static readonly TimeSpan ShortLease = TimeSpan.FromMilliseconds(400);

    /// <summary>A retry delay a test waits out.</summary>
    protected static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>A dedupe window a test waits out.</summary>
    protected static readonly TimeSpan ShortDedupeWindow = TimeSpan.FromMilliseconds(300);

    /// <summary>How long to wait before concluding that nothing is due.</summary>
    protected static readonly TimeSpan Glance = TimeSpan.FromMilliseconds(200);

    /// <summary>The deadline for something that should happen promptly (a liveness bound, not a timing assertion).</summary>
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>What a lower bound allows for clock granularity (stores may keep milliseconds).</summary>
    protected static readonly TimeSpan Tolerance = TimeSpan.FromMilliseconds(20);

    /// <summary>The <c>maxWait</c> of each long poll while waiting for deliveries to come.</summary>
    protected static readonly TimeSpan PollWait = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan PollPeriod = TimeSpan.FromMilliseconds(20);

    private static readonly TimeSpan ClockMargin = TimeSpan.FromMilliseconds(10);

    private readonly Dictionary<string, SubscriptionSpec> _subscriptions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IDeliveryQueue> _queues = new(StringComparer.Ordinal);
    private IStoreFactory? _factory;
    private StoreHandle? _store;

    /// <summary>The open store.</summary>
    protected StoreHandle Store => _store ?? throw new InvalidOperationException("The store is not open.");

    /// <summary>The store's replay and pruning ability.</summary>
    protected IRetentionStore Retention =>
        Store.Retention ?? throw new InvalidOperationException("This store has no IRetentionStore: do not bind ReplayTests or PruningTests for it.");

    /// <summary>Makes a factory over a new, empty location, configured with <paramref name="options"/>.</summary>
    protected abstract IStoreFactory CreateFactory(StoreFactoryOptions options);

    public async Task InitializeAsync()
    {
        _factory = CreateFactory(StoreFactoryOptions.Default);
        _store = await _factory.OpenAsync();
    }

    public async Task DisposeAsync()
    {
        await CloseAsync();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
    }

    /// <summary>
    /// Closes the store and opens it again over the same data, as a broker restart does: the broker then tells the
    /// store again of every subscription it knows.
    /// </summary>
    protected async Task ReopenAsync()
    {
        await CloseAsync();
        _store = await _factory!.OpenAsync();
        foreach (var spec in _subscriptions.Values)
        {
            await Store.Events.SubscriptionChangedAsync(spec);
        }
    }

    /// <summary>Drops the store and carries on with a new, empty one configured with <paramref name="options"/>.</summary>
    protected async Task UseNewStoreAsync(StoreFactoryOptions options)
    {
        await CloseAsync();
        await _factory!.DisposeAsync();
        _subscriptions.Clear();
        _factory = CreateFactory(options);
        _store = await _factory.OpenAsync();
    }

    private async Task CloseAsync()
    {
        foreach (var queue in _queues.Values)
        {
            await queue.DisposeAsync();
        }

        _queues.Clear();
        if (_store is not null)
        {
            await _store.DisposeAsync();
            _store = null;
        }
    }

    // ---- Subscriptions and queues ----

    /// <summary>The id of a subscription of <see cref="SubscriberApp"/>, <c>{account}/{workspace}/{app}/{handler}</c>.</summary>
    protected static string SubscriptionId(string handler = "h1", string workspace = Workspace, string account = Account) =>
        $"{account}/{workspace}/{SubscriberApp}/{handler}";

    protected static SubscriptionSpec Spec(string handler = "h1", string workspace = Workspace, string account = Account, DeliveryPolicy? policy = null) =>
        new(SubscriptionId(handler, workspace, account), account, workspace, SubscriberApp, handler, null, ["send-event"], policy ?? new DeliveryPolicy());

    /// <summary>Tells the store of a subscription, as the broker does when its app is linked; returns its id.</summary>
    protected async Task<string> SubscribeAsync(string handler = "h1", string workspace = Workspace, string account = Account, DeliveryPolicy? policy = null)
    {
        var spec = Spec(handler, workspace, account, policy);
        await Store.Events.SubscriptionChangedAsync(spec);
        _subscriptions[spec.Id] = spec;
        return spec.Id;
    }

    /// <summary>Tells the store a subscription is gone, as the broker does when its app is unlinked.</summary>
    protected async Task<int> UnsubscribeAsync(string subscriptionId, string reason = "subscription-removed")
    {
        _subscriptions.Remove(subscriptionId);
        return await Store.Events.SubscriptionRemovedAsync(subscriptionId, reason);
    }

    /// <summary>The subscription's queue, opened once per open store (one broker holds one queue per subscription).</summary>
    protected async Task<IDeliveryQueue> QueueAsync(string subscriptionId)
    {
        if (!_queues.TryGetValue(subscriptionId, out var queue))
        {
            queue = await Store.Events.OpenQueueAsync(subscriptionId);
            Assert.Equal(subscriptionId, queue.SubscriptionId);
            _queues[subscriptionId] = queue;
        }

        return queue;
    }

    /// <summary>Disposes the subscription's queue, as a broker whose worker for it stops.</summary>
    protected async Task CloseQueueAsync(string subscriptionId)
    {
        if (_queues.Remove(subscriptionId, out var queue))
        {
            await queue.DisposeAsync();
        }
    }

    // ---- Events ----

    /// <summary>Now, to the millisecond (what any store can be expected to keep).</summary>
    protected static DateTimeOffset Now()
    {
        var now = TimeProvider.System.GetUtcNow();
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond));
    }

    /// <summary>An event accepted now.</summary>
    protected static HeraldEvent Event(
        string key = "send-event",
        string body = """{"random":42}""",
        string account = Account,
        string workspace = Workspace,
        string sender = Sender,
        string subject = "",
        string? traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01") =>
        new(Guid.CreateVersion7(), account, workspace, sender, key, subject, Encoding.UTF8.GetBytes(body), Now(), traceParent) { TraceState = traceParent is null ? null : "herald=t61rcWkgMzE" };

    /// <summary>Appends an event routed to <paramref name="subscriptionIds"/>, without an idempotency key.</summary>
    protected async Task<AppendResult> AppendAsync(HeraldEvent evt, params string[] subscriptionIds) =>
        await Store.Events.AppendAsync(evt, subscriptionIds, null);

    /// <summary>Appends an event for one subscription, leases it and settles it delivered (or dead); returns the lease.</summary>
    protected async Task<DeliveryLease> FinishAsync(HeraldEvent evt, string subscriptionId, bool dead = false)
    {
        await AppendAsync(evt, subscriptionId);
        var lease = await LeaseOneAsync(subscriptionId);
        Assert.Equal(evt.Id, lease.Event.Id);
        await SettleAsync(dead ? Dead(lease) : Delivered(lease));
        return lease;
    }

    // ---- Leasing ----

    /// <summary>One call of <see cref="IDeliveryQueue.LeaseAsync"/>, checking that it keeps to <paramref name="max"/> and its subscription.</summary>
    protected async Task<IReadOnlyList<DeliveryLease>> LeaseAsync(string subscriptionId, int max = 10, TimeSpan? leaseFor = null, TimeSpan? maxWait = null)
    {
        var queue = await QueueAsync(subscriptionId);
        var leases = await queue.LeaseAsync(max, leaseFor ?? LongLease, maxWait ?? Glance);
        Assert.True(leases.Count <= max, $"LeaseAsync(max: {max}) handed out {leases.Count} deliveries.");
        Assert.All(leases, l => Assert.Equal(subscriptionId, l.SubscriptionId));
        Assert.All(leases, l => Assert.False(string.IsNullOrEmpty(l.DeliveryId), "A lease without a delivery id."));
        return leases;
    }

    /// <summary>Long-polls the queue until exactly <paramref name="count"/> deliveries are leased, in the order handed out.</summary>
    protected async Task<IReadOnlyList<DeliveryLease>> LeaseUntilAsync(string subscriptionId, int count, TimeSpan? leaseFor = null)
    {
        var leased = new List<DeliveryLease>();
        var elapsed = Stopwatch.StartNew();
        while (leased.Count < count)
        {
            if (elapsed.Elapsed > Patience)
            {
                Assert.Fail($"Leased {leased.Count} of {count} deliveries of {subscriptionId} in {Patience.TotalSeconds} s.");
            }

            leased.AddRange(await LeaseAsync(subscriptionId, count - leased.Count, leaseFor, PollWait));
        }

        return leased;
    }

    /// <summary>Long-polls the queue until one delivery is leased.</summary>
    protected async Task<DeliveryLease> LeaseOneAsync(string subscriptionId, TimeSpan? leaseFor = null) =>
        Assert.Single(await LeaseUntilAsync(subscriptionId, 1, leaseFor));

    /// <summary>
    /// Long-polls the queue until one delivery is leased, and asserts it was not handed out before
    /// <paramref name="notBefore"/> had passed on <paramref name="since"/> (started before the call that set the
    /// delay: the lease or the settlement).
    /// </summary>
    protected async Task<DeliveryLease> LeaseNotBeforeAsync(string subscriptionId, Stopwatch since, TimeSpan notBefore, TimeSpan? leaseFor = null)
    {
        while (true)
        {
            var leases = await LeaseAsync(subscriptionId, 1, leaseFor, PollWait);
            var elapsed = since.Elapsed;
            if (leases.Count == 1)
            {
                Assert.True(elapsed >= notBefore - Tolerance,
                    $"A delivery of {subscriptionId} was handed out {elapsed.TotalMilliseconds:F0} ms after the call that made it due in {notBefore.TotalMilliseconds:F0} ms.");
                return leases[0];
            }

            if (elapsed > notBefore + Patience)
            {
                Assert.Fail($"No delivery of {subscriptionId} was due again {elapsed.TotalSeconds:F1} s after the call that made it due in {notBefore.TotalMilliseconds:F0} ms.");
            }
        }
    }

    /// <summary>Asserts that nothing is due: a lease waiting <paramref name="maxWait"/> gets nothing.</summary>
    protected async Task AssertNothingDueAsync(string subscriptionId, TimeSpan? maxWait = null)
    {
        var leases = await LeaseAsync(subscriptionId, 10, LongLease, maxWait ?? Glance);
        Assert.True(leases.Count == 0, $"Expected nothing due on {subscriptionId}, got attempt {string.Join(", ", leases.Select(l => l.Attempt))} of event(s) {string.Join(", ", leases.Select(l => l.Event.Id))}.");
    }

    // ---- Settlements ----

    /// <summary>The record of an attempt of <paramref name="lease"/> that got <paramref name="status"/>.</summary>
    protected static AttemptRecord AttemptOf(DeliveryLease lease, int status) =>
        new(lease.Attempt, Now(), TimeSpan.FromMilliseconds(12), status, status is >= 200 and < 300 ? null : $"HTTP {status}");

    protected static Settlement Delivered(DeliveryLease lease) => Settlement.Delivered(lease, AttemptOf(lease, 204));

    protected static Settlement Retry(DeliveryLease lease, TimeSpan retryIn, int status = 500) => Settlement.Retry(lease, AttemptOf(lease, status), retryIn);

    protected static Settlement Dead(DeliveryLease lease, string reason = "rejected", int status = 400) => Settlement.Dead(lease, AttemptOf(lease, status), reason);

    /// <summary>Settles, in one batch, leases of one subscription through its queue.</summary>
    protected async Task SettleAsync(params Settlement[] settlements)
    {
        var subscriptionId = settlements[0].Lease.SubscriptionId;
        Assert.All(settlements, s => Assert.Equal(subscriptionId, s.Lease.SubscriptionId));
        await (await QueueAsync(subscriptionId)).SettleAsync(settlements);
    }

    // ---- Counts and dead letters ----

    protected async Task<DeliveryCounts> CountAsync(string subscriptionId) => (await Store.Events.CountAsync([subscriptionId]))[subscriptionId];

    /// <summary>Asserts the counts of a subscription reach <paramref name="expected"/> (a store may count a fresh append a moment late).</summary>
    protected async Task AssertCountsAsync(string subscriptionId, DeliveryCounts expected) =>
        await EventuallyAsync(() => CountAsync(subscriptionId), c => c == expected, $"the counts of {subscriptionId} to be {expected}");

    protected async Task<IReadOnlyList<StoredDeadLetter>> DeadLettersAsync(string? subscriptionId = null, string workspace = Workspace, string account = Account, int limit = 100) =>
        await Store.DeadLetters.ListDeadLettersAsync(account, workspace, subscriptionId, limit);

    /// <summary>The one dead letter of an event.</summary>
    protected async Task<StoredDeadLetter> DeadLetterOfAsync(Guid eventId, string workspace = Workspace, string account = Account) =>
        Assert.Single(await DeadLettersAsync(null, workspace, account), l => l.Event.Id == eventId);

    // ---- Time ----

    /// <summary>Polls <paramref name="probe"/> until <paramref name="condition"/> holds, failing after <paramref name="deadline"/>.</summary>
    protected static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, string what, TimeSpan? deadline = null)
    {
        var limit = deadline ?? Patience;
        var elapsed = Stopwatch.StartNew();
        using var timer = new PeriodicTimer(PollPeriod);
        while (true)
        {
            var last = await probe();
            if (condition(last))
            {
                return last;
            }

            if (elapsed.Elapsed > limit)
            {
                Assert.Fail($"Timed out after {limit.TotalSeconds} s waiting for {what}; last value: {last}.");
            }

            await timer.WaitForNextTickAsync();
        }
    }

    /// <summary>
    /// A moment strictly after everything the store did so far and strictly before anything it does next, with a
    /// margin for millisecond clocks: returns now plus a margin once the clock has passed it by another margin.
    /// Used for <c>since</c> arguments and to keep dead-letter times apart.
    /// </summary>
    protected static async Task<DateTimeOffset> MarkAsync()
    {
        var mark = Now() + ClockMargin;
        await EventuallyAsync(() => Task.FromResult(TimeProvider.System.GetUtcNow()), now => now > mark + ClockMargin, "the clock to pass a mark");
        return mark;
    }
}
