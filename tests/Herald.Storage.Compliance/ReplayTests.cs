namespace Herald.Storage.Compliance;

/// <summary>
/// Replay: every delivered or dead delivery of a subscription whose event was accepted since a time is delivered
/// again with a fresh attempt count; a pending one may come twice, older events and other subscriptions never.
/// </summary>
public abstract class ReplayTests : StoreTestBase
{
    [Fact]
    public async Task Replay_DeliversAgainTheDeliveredAndDeadDeliveriesSinceTheTime_WithAFreshAttemptCount()
    {
        var s1 = await SubscribeAsync("h1");
        var other = await SubscribeAsync("h2");
        var old = await FinishAsync(Event(), s1);
        var since = await MarkAsync();
        var recent = await FinishAsync(Event(), s1);
        var recentDead = await FinishAsync(Event(), s1, dead: true);
        var pending = Event();
        await AppendAsync(pending, s1);
        await FinishAsync(Event(), other);
        await AssertCountsAsync(s1, new DeliveryCounts(1, 0, 2, 1));

        var replayed = await Retention.ReplayAsync(s1, since);

        // The two finished ones at least; the pending one may be made due a second time.
        Assert.InRange(replayed, 2, 3);
        var leased = await LeaseUntilAsync(s1, replayed + 1);
        await AssertNothingDueAsync(s1);
        var times = leased.GroupBy(l => l.Event.Id).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(1, times.GetValueOrDefault(recent.Event.Id));
        Assert.Equal(1, times.GetValueOrDefault(recentDead.Event.Id));
        Assert.Equal(replayed - 1, times.GetValueOrDefault(pending.Id));
        Assert.False(times.ContainsKey(old.Event.Id), "An event accepted before the replay's time was replayed.");
        Assert.All(leased, l => Assert.Equal(1, l.Attempt));
        Assert.DoesNotContain(await DeadLettersAsync(s1), l => l.Event.Id == recentDead.Event.Id);
        await AssertNothingDueAsync(other);
    }

    [Fact]
    public async Task Replay_SinceAfterEveryEvent_MakesNothingDue()
    {
        var s1 = await SubscribeAsync();
        await FinishAsync(Event(), s1);
        var since = await MarkAsync();

        Assert.Equal(0, await Retention.ReplayAsync(s1, since));

        await AssertNothingDueAsync(s1);
    }
}
