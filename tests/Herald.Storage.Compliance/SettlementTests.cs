using System.Diagnostics;

namespace Herald.Storage.Compliance;

/// <summary>
/// Settlements: delivered, retry after a delay, or dead with a reason, written in durable batches; a settlement
/// whose lease is no longer held changes nothing.
/// </summary>
public abstract class SettlementTests : StoreTestBase
{
    [Fact]
    public async Task Retry_MakesTheDeliveryDueAgainAfterItsDelay_AndNotBefore()
    {
        var s1 = await SubscribeAsync();
        await AppendAsync(Event(), s1);
        var first = await LeaseOneAsync(s1);

        var sinceRetry = Stopwatch.StartNew();
        await SettleAsync(Retry(first, RetryDelay));
        await AssertCountsAsync(s1, new DeliveryCounts(1, 0, 0, 0));
        var second = await LeaseNotBeforeAsync(s1, sinceRetry, RetryDelay);

        Assert.Equal(first.DeliveryId, second.DeliveryId);
        Assert.Equal(2, second.Attempt);
    }

    [Fact]
    public async Task Delivered_IsCountedAndNeverLeasedAgain()
    {
        var s1 = await SubscribeAsync();
        await AppendAsync(Event(), s1);
        var leased = await LeaseOneAsync(s1, ShortLease);

        await SettleAsync(Delivered(leased));

        await AssertCountsAsync(s1, new DeliveryCounts(0, 0, 1, 0));
        await AssertNothingDueAsync(s1, maxWait: 2 * ShortLease);
        Assert.Equal(new DeliveryCounts(0, 0, 1, 0), await CountAsync(s1));
    }

    [Fact]
    public async Task Settlements_InOneBatch_AreAllWritten()
    {
        var s1 = await SubscribeAsync();
        for (var i = 0; i < 3; i++)
        {
            await AppendAsync(Event(), s1);
        }

        var leased = await LeaseUntilAsync(s1, 3);
        await SettleAsync(Delivered(leased[0]), Retry(leased[1], RetryDelay), Dead(leased[2], "rejected"));

        await AssertCountsAsync(s1, new DeliveryCounts(1, 0, 1, 1));
        Assert.Equal("rejected", (await DeadLetterOfAsync(leased[2].Event.Id)).Reason);
        var retried = await LeaseOneAsync(s1);
        Assert.Equal((leased[1].Event.Id, 2), (retried.Event.Id, retried.Attempt));
        await AssertNothingDueAsync(s1);
    }

    [Fact]
    public async Task Settle_OfALeaseThatRanOutAndWasLeasedAgain_ChangesNothing()
    {
        var s1 = await SubscribeAsync();
        await AppendAsync(Event(), s1);
        await AssertCountsAsync(s1, new DeliveryCounts(1, 0, 0, 0));
        var sinceLease = Stopwatch.StartNew();
        var stale = await LeaseOneAsync(s1, ShortLease);
        var current = await LeaseNotBeforeAsync(s1, sinceLease, ShortLease);

        await SettleAsync(Dead(stale, "stale"));
        await SettleAsync(Delivered(stale));

        Assert.Equal(new DeliveryCounts(0, 1, 0, 0), await CountAsync(s1));
        Assert.Empty(await DeadLettersAsync());
        await SettleAsync(Delivered(current));
        await AssertCountsAsync(s1, new DeliveryCounts(0, 0, 1, 0));
        Assert.Empty(await DeadLettersAsync());
    }

    [Fact]
    public async Task Count_ReportsPendingInFlightDeliveredAndDead()
    {
        var s1 = await SubscribeAsync();
        for (var i = 0; i < 5; i++)
        {
            await AppendAsync(Event(), s1);
        }

        var leased = await LeaseUntilAsync(s1, 4);
        await SettleAsync(Delivered(leased[0]), Dead(leased[1]), Retry(leased[2], TimeSpan.FromMinutes(1)));

        // Pending: one never leased and one waiting for its retry; in flight: one leased and unsettled.
        await AssertCountsAsync(s1, new DeliveryCounts(2, 1, 1, 1));
        var counts = await Store.Events.CountAsync([s1, SubscriptionId("other")]);
        Assert.Equal(new DeliveryCounts(2, 1, 1, 1), counts[s1]);
        Assert.Equal(DeliveryCounts.Zero, counts[SubscriptionId("other")]);
    }

    [Fact]
    public async Task OldestUndelivered_IsWhenTheOldestEventNotYetDeliveredNorDeadWasAccepted()
    {
        var s1 = await SubscribeAsync();
        var now = Now();
        var events = new[] { Event() with { Time = now.AddMinutes(-3) }, Event() with { Time = now.AddMinutes(-2) }, Event() with { Time = now.AddMinutes(-1) } };
        foreach (var evt in events)
        {
            await AppendAsync(evt, s1);
        }

        async Task<DateTimeOffset?> OldestAsync(DateTimeOffset? expected)
        {
            var other = SubscriptionId("other");
            var oldest = await EventuallyAsync(
                () => Store.Events.OldestUndeliveredAsync([s1, other]).AsTask(),
                o => (o.TryGetValue(s1, out var t) ? t : (DateTimeOffset?)null) == expected,
                $"the oldest undelivered event of {s1} to be from {expected:O}");
            Assert.False(oldest.ContainsKey(other), "a subscription with nothing undelivered is left out");
            return oldest.TryGetValue(s1, out var time) ? time : null;
        }

        Assert.Equal(events[0].Time, await OldestAsync(events[0].Time));
        var leases = (await LeaseUntilAsync(s1, 3)).ToDictionary(l => l.Event.Id);
        Assert.Equal(events[0].Time, await OldestAsync(events[0].Time));

        await SettleAsync(Delivered(leases[events[0].Id]), Dead(leases[events[1].Id]), Retry(leases[events[2].Id], TimeSpan.Zero));
        Assert.Equal(events[2].Time, await OldestAsync(events[2].Time));

        await SettleAsync(Delivered(await LeaseOneAsync(s1)));
        Assert.Null(await OldestAsync(null));
    }
}
