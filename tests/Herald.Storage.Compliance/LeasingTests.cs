using System.Collections.Concurrent;
using System.Diagnostics;

namespace Herald.Storage.Compliance;

/// <summary>
/// Leasing: a long poll for up to N due deliveries of one subscription, oldest first, each leased for a relative
/// duration (extendable) during which it is not handed out again, each lease counting an attempt.
/// </summary>
public abstract class LeasingTests : StoreTestBase
{
    [Fact]
    public async Task LeasingABacklog_WhileSettlementsCommit_HandsOutEachDeliveryOnce()
    {
        // More than a store is likely to hold in memory, leased in small batches while earlier batches settle: a store
        // that reads its backlog must not hand out again what was settled while it was reading.
        const int Backlog = 3000;
        var s1 = await SubscribeAsync();
        for (var round = 0; round < Backlog / 100; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => AppendAsync(Event(), s1)));
        }

        var queue = await QueueAsync(s1);
        var leasesPerDelivery = new ConcurrentDictionary<string, int>();
        var settling = new List<Task>();
        var elapsed = Stopwatch.StartNew();
        while (leasesPerDelivery.Count < Backlog)
        {
            Assert.True(elapsed.Elapsed < Patience * 6, $"Leased {leasesPerDelivery.Count} of {Backlog} deliveries in {elapsed.Elapsed.TotalSeconds:F0} s.");
            var leases = await queue.LeaseAsync(64, LongLease, PollWait);
            foreach (var lease in leases)
            {
                leasesPerDelivery.AddOrUpdate(lease.DeliveryId, 1, (_, n) => n + 1);
            }

            if (leases.Count > 0)
            {
                settling.Add(Task.Run(async () => await queue.SettleAsync([.. leases.Select(Delivered)])));
            }
        }

        await Task.WhenAll(settling);
        Assert.DoesNotContain(leasesPerDelivery, d => d.Value > 1);
        await AssertNothingDueAsync(s1);
        await AssertCountsAsync(s1, new DeliveryCounts(0, 0, Backlog, 0));
    }

    [Fact]
    public async Task Lease_TakesAtMostMax_OldestFirst_AndCountsAnAttemptForEach()
    {
        var s1 = await SubscribeAsync();
        var events = Enumerable.Range(0, 5).Select(i => Event(body: $$"""{"n":{{i}}}""")).ToList();
        foreach (var e in events)
        {
            await AppendAsync(e, s1);
        }

        await AssertCountsAsync(s1, new DeliveryCounts(5, 0, 0, 0));
        var leased = await LeaseUntilAsync(s1, 3);

        Assert.Equal(events.Take(3).Select(e => e.Id), leased.Select(l => l.Event.Id));
        Assert.All(leased, l => Assert.Equal(1, l.Attempt));
        Assert.Equal(3, leased.Select(l => l.DeliveryId).Distinct().Count());
        await AssertCountsAsync(s1, new DeliveryCounts(2, 3, 0, 0));
        var rest = await LeaseUntilAsync(s1, 2);
        Assert.Equal(events.Skip(3).Select(e => e.Id), rest.Select(l => l.Event.Id));
        await AssertNothingDueAsync(s1);
    }

    [Fact]
    public async Task Lease_WhenNothingIsDue_WaitsForMaxWait_AndReturnsEmpty()
    {
        var s1 = await SubscribeAsync();
        var queue = await QueueAsync(s1);
        var maxWait = TimeSpan.FromMilliseconds(300);

        var elapsed = Stopwatch.StartNew();
        var leases = await queue.LeaseAsync(10, LongLease, maxWait);

        Assert.Empty(leases);
        Assert.True(elapsed.Elapsed >= maxWait - Tolerance,
            $"LeaseAsync gave up after {elapsed.Elapsed.TotalMilliseconds:F0} ms with nothing due, though maxWait was {maxWait.TotalMilliseconds:F0} ms.");
    }

    [Fact]
    public async Task Lease_WhileWaiting_ReturnsOnceAnAppendMakesADeliveryDue()
    {
        var s1 = await SubscribeAsync();
        var queue = await QueueAsync(s1);
        await AssertNothingDueAsync(s1);
        var maxWait = TimeSpan.FromMinutes(2);

        var waiting = queue.LeaseAsync(10, LongLease, maxWait).AsTask();
        Assert.False(waiting.IsCompleted, "LeaseAsync returned at once with nothing due, though maxWait was two minutes.");
        var evt = Event();
        await AppendAsync(evt, s1);

        // A deadline far shorter than maxWait but far longer than a wake-up needs: a liveness check, not a timing one.
        IReadOnlyList<DeliveryLease> leases = [];
        try
        {
            leases = await waiting.WaitAsync(Patience);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"LeaseAsync (maxWait {maxWait.TotalMinutes} min) had not returned {Patience.TotalSeconds} s after an append made a delivery due.");
        }

        var lease = Assert.Single(leases);
        Assert.Equal(evt.Id, lease.Event.Id);
        Assert.Equal(1, lease.Attempt);
    }

    [Fact]
    public async Task Leased_IsNotLeasedAgainBeforeItsLeaseRunsOut_ButIsAfter()
    {
        var s1 = await SubscribeAsync();
        await AppendAsync(Event(), s1);
        await AssertCountsAsync(s1, new DeliveryCounts(1, 0, 0, 0));

        var sinceLease = Stopwatch.StartNew();
        var first = await LeaseOneAsync(s1, ShortLease);
        var again = await LeaseNotBeforeAsync(s1, sinceLease, ShortLease);

        Assert.Equal(first.DeliveryId, again.DeliveryId);
        Assert.Equal(first.Event.Id, again.Event.Id);
        Assert.Equal((1, 2), (first.Attempt, again.Attempt));
    }

    [Fact]
    public async Task Extend_KeepsALeaseFromRunningOut()
    {
        var s1 = await SubscribeAsync();
        var queue = await QueueAsync(s1);
        await AppendAsync(Event(), s1);
        await AssertCountsAsync(s1, new DeliveryCounts(1, 0, 0, 0));

        var sinceLease = Stopwatch.StartNew();
        var lease = await LeaseOneAsync(s1, ShortLease);

        // Since the lease was last set to run ShortLease: the lease call, then each extension.
        var sinceKept = sinceLease;
        while (sinceLease.Elapsed < 3 * ShortLease)
        {
            var sinceExtend = Stopwatch.StartNew();
            var unkept = sinceKept.Elapsed;
            await queue.ExtendAsync([lease], ShortLease);
            sinceKept = sinceExtend;
            var stolen = await LeaseAsync(s1, 1, LongLease, maxWait: ShortLease / 4);
            if (stolen.Count > 0)
            {
                // Only allowed when the lease ran out because this machine stalled for a whole lease: after this
                // extension, or before it (an extension that comes after the lease ran out does not bring it back).
                // Then the rest of the test has nothing left to show.
                Assert.True(sinceExtend.Elapsed >= ShortLease - Tolerance || unkept >= ShortLease - Tolerance,
                    $"An extended lease was handed out again {sinceExtend.Elapsed.TotalMilliseconds:F0} ms after ExtendAsync({ShortLease.TotalMilliseconds:F0} ms), which came {unkept.TotalMilliseconds:F0} ms after the lease was last set.");
                return;
            }
        }

        await SettleAsync(Delivered(lease));
        await AssertCountsAsync(s1, new DeliveryCounts(0, 0, 1, 0));

        // Extending a settled lease is skipped.
        await queue.ExtendAsync([lease], ShortLease);
        await AssertCountsAsync(s1, new DeliveryCounts(0, 0, 1, 0));
        await AssertNothingDueAsync(s1);
    }

    [Fact]
    public async Task Lease_OnlyTakesItsOwnSubscription()
    {
        var s1 = await SubscribeAsync("h1");
        var s2 = await SubscribeAsync("h2");
        var evt = Event();
        await AppendAsync(evt, s1);
        await AssertCountsAsync(s1, new DeliveryCounts(1, 0, 0, 0));

        await AssertNothingDueAsync(s2);
        Assert.Equal(evt.Id, (await LeaseOneAsync(s1)).Event.Id);
    }

    [Fact]
    public async Task EveryLease_CountsAnAttempt_OfTheSameDelivery()
    {
        var s1 = await SubscribeAsync();
        await AppendAsync(Event(), s1);

        var first = await LeaseOneAsync(s1);
        await SettleAsync(Retry(first, TimeSpan.Zero));
        var second = await LeaseOneAsync(s1);
        await SettleAsync(Retry(second, TimeSpan.Zero));
        var third = await LeaseOneAsync(s1);

        Assert.Equal([1, 2, 3], new[] { first, second, third }.Select(l => l.Attempt));
        Assert.Single(new[] { first, second, third }.Select(l => l.DeliveryId).Distinct());
    }
}
