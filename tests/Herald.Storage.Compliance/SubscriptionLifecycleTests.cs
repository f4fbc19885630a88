using Herald.Delivery;

namespace Herald.Storage.Compliance;

/// <summary>
/// The subscription lifecycle as the broker tells it to the store: a subscription appears or changes (its queue is
/// kept), or goes away (its undelivered deliveries, pending and leased, are dead-lettered with the reason).
/// </summary>
public abstract class SubscriptionLifecycleTests : StoreTestBase
{
    [Fact]
    public async Task SubscriptionRemoved_DeadLettersEveryUndeliveredDelivery_PendingAndLeased_AndSaysHowMany()
    {
        var s1 = await SubscribeAsync("h1");
        var s2 = await SubscribeAsync("h2");
        var events = Enumerable.Range(0, 3).Select(_ => Event()).ToList();
        foreach (var e in events)
        {
            await AppendAsync(e, s1, s2);
        }

        var leased = await LeaseUntilAsync(s1, 2);
        await SettleAsync(Delivered(leased[0]));

        var count = await UnsubscribeAsync(s1, "subscription-removed");

        Assert.Equal(2, count);
        await AssertCountsAsync(s1, new DeliveryCounts(0, 0, 1, 2));
        var letters = await DeadLettersAsync(s1);
        Assert.Equal(new[] { events[1].Id, events[2].Id }.Order(), letters.Select(l => l.Event.Id).Order());
        Assert.All(letters, l => Assert.Equal("subscription-removed", l.Reason));
        await AssertCountsAsync(s2, new DeliveryCounts(3, 0, 0, 0));
        Assert.Equal(0, await UnsubscribeAsync(s1, "subscription-removed"));
    }

    [Fact]
    public async Task SubscriptionRemoved_RightAfterAppends_DeadLettersEveryEventAppendedBeforeIt()
    {
        // A store may make a subscription's deliveries after the append has returned (the NATS store copies committed
        // events to the queues in the background); a removal must still find every event appended before it, even
        // when they were appended all at once a moment before.
        for (var round = 0; round < 5; round++)
        {
            var (subscription, events) = await SubscribeAndAppendAtOnceAsync($"r{round}", 100);

            Assert.Equal(events.Count, await UnsubscribeAsync(subscription, "subscription-removed"));
            var letters = await DeadLettersAsync(subscription);
            Assert.Equal(events.Select(e => e.Id).Order(), letters.Select(l => l.Event.Id).Order());
            Assert.Equal(new DeliveryCounts(0, 0, 0, events.Count), await CountAsync(subscription));
        }
    }

    [Fact]
    public async Task SubscriptionRemoved_RightAfterSettlements_DeadLettersOnlyWhatWasLeftUnsettled()
    {
        // A settlement is final when it returns: a removal right after it neither dead-letters a delivered delivery
        // nor a dead one again (on a cluster, an acknowledgement reaches the stream's replicas after it is answered).
        for (var round = 0; round < 5; round++)
        {
            var (subscription, events) = await SubscribeAndAppendAtOnceAsync($"s{round}", 20);
            var leased = await LeaseUntilAsync(subscription, events.Count);
            await SettleAsync([.. leased.Take(10).Select(Delivered), .. leased.Skip(10).Take(5).Select(l => Dead(l))]);

            Assert.Equal(5, await UnsubscribeAsync(subscription, "subscription-removed"));
            Assert.Equal(new DeliveryCounts(0, 0, 10, 10), await CountAsync(subscription));
            var letters = await DeadLettersAsync(subscription);
            Assert.Equal(leased.Skip(10).Select(l => l.Event.Id).Order(), letters.Select(l => l.Event.Id).Order());
            Assert.Equal(5, letters.Count(l => l.Reason == "subscription-removed"));
        }
    }

    [Fact]
    public async Task Settle_OfADeliveryDeadLetteredByRemoval_ChangesNothing()
    {
        var s1 = await SubscribeAsync();
        await AppendAsync(Event(), s1);
        await AppendAsync(Event(), s1);
        var leased = await LeaseUntilAsync(s1, 2);

        Assert.Equal(2, await UnsubscribeAsync(s1, "subscription-removed"));
        await SettleAsync(Delivered(leased[0]), Retry(leased[1], TimeSpan.Zero));

        Assert.Equal(new DeliveryCounts(0, 0, 0, 2), await CountAsync(s1));
        var letters = await DeadLettersAsync(s1);
        Assert.Equal(leased.Select(l => l.Event.Id).Order(), letters.Select(l => l.Event.Id).Order());
        Assert.All(letters, l => Assert.Equal("subscription-removed", l.Reason));
    }

    [Fact]
    public async Task SubscriptionChanged_AgainWithANewPolicy_KeepsItsQueue()
    {
        var s1 = await SubscribeAsync();
        var evt = Event();
        await AppendAsync(evt, s1);
        var first = await LeaseOneAsync(s1);
        await SettleAsync(Retry(first, TimeSpan.Zero));

        await CloseQueueAsync(s1);
        await SubscribeAsync(policy: new DeliveryPolicy { Retries = 2, InitialBackoffDelay = 100, Concurrency = 1 });

        var again = await LeaseOneAsync(s1);
        Assert.Equal((evt.Id, first.DeliveryId, 2), (again.Event.Id, again.DeliveryId, again.Attempt));
        await AssertNothingDueAsync(s1);
    }

    [Fact]
    public async Task ARemovedSubscription_DeclaredAgain_GetsNewDeliveries_AndKeepsItsDeadLetters()
    {
        var s1 = await SubscribeAsync();
        var before = Event();
        await AppendAsync(before, s1);
        await AssertCountsAsync(s1, new DeliveryCounts(1, 0, 0, 0));
        Assert.Equal(1, await UnsubscribeAsync(s1));
        await CloseQueueAsync(s1);

        await SubscribeAsync();
        var after = Event();
        await AppendAsync(after, s1);

        var lease = await LeaseOneAsync(s1);
        Assert.Equal((after.Id, 1), (lease.Event.Id, lease.Attempt));
        await AssertNothingDueAsync(s1);
        Assert.Equal(before.Id, Assert.Single(await DeadLettersAsync(s1)).Event.Id);
    }

    /// <summary>A new subscription, and <paramref name="count"/> events routed to it appended all at once.</summary>
    private async Task<(string Subscription, List<HeraldEvent> Events)> SubscribeAndAppendAtOnceAsync(string handler, int count)
    {
        var subscription = await SubscribeAsync(handler);
        var events = Enumerable.Range(0, count).Select(_ => Event()).ToList();
        await Task.WhenAll(events.Select(e => AppendAsync(e, subscription)));
        return (subscription, events);
    }
}
