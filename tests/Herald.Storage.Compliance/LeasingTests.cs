using Herald.Broker.Storage;

namespace Herald.Storage.Compliance;

/// <summary>Leasing: only due deliveries, at most the asked number, each counted as an attempt, never twice while leased.</summary>
public abstract class LeasingTests : StoreTestBase
{
    [Fact]
    public async Task Lease_TakesAtMostMax_InDueOrder_AndCountsTheAttempt()
    {
        var events = Enumerable.Range(0, 5).Select(i => Event(body: $$"""{"n":{{i}}}""")).ToList();
        foreach (var e in events)
        {
            await Store.Events.AppendAsync(e, ["s1"], null, T0);
        }

        var leased = await LeaseAsync("s1", max: 3);

        Assert.Equal(events.Take(3).Select(e => e.Id), leased.Select(l => l.Event.Id));
        Assert.All(leased, l => Assert.Equal(1, l.Attempt));
        Assert.Equal(new DeliveryCounts(2, 3, 0, 0), (await Store.Events.CountAsync(["s1"]))["s1"]);
    }

    [Fact]
    public async Task Leased_IsNotLeasedAgainBeforeItsLeaseExpires_ButIsAfter()
    {
        await Store.Events.AppendAsync(Event(), ["s1"], null, T0);
        var first = Assert.Single(await Store.Events.LeaseAsync("s1", 10, T0, T0.AddSeconds(30)));

        Assert.Empty(await Store.Events.LeaseAsync("s1", 10, T0.AddSeconds(29), T0.AddSeconds(59)));
        var again = Assert.Single(await Store.Events.LeaseAsync("s1", 10, T0.AddSeconds(30), T0.AddSeconds(60)));

        Assert.Equal(first.DeliveryId, again.DeliveryId);
        Assert.Equal(2, again.Attempt);
    }

    [Fact]
    public async Task Lease_OnlyTakesItsOwnSubscription()
    {
        await Store.Events.AppendAsync(Event(), ["s1"], null, T0);

        Assert.Empty(await LeaseAsync("s2"));
        Assert.Single(await LeaseAsync("s1"));
    }

    [Fact]
    public async Task NextDue_IsTheEarliestPendingDueTime()
    {
        Assert.Null(await Store.Events.NextDueAsync("s1"));
        await Store.Events.AppendAsync(Event(), ["s1"], null, T0);

        Assert.Equal(T0, await Store.Events.NextDueAsync("s1"));
    }
}

/// <summary>Outcomes: delivered, retry at a time, dead with its attempts.</summary>
public abstract class OutcomeTests : StoreTestBase
{
    [Fact]
    public async Task Retry_MakesTheDeliveryDueAtItsRetryTime()
    {
        await Store.Events.AppendAsync(Event(), ["s1"], null, T0);
        var leased = Assert.Single(await LeaseAsync("s1"));

        await Store.Events.RecordOutcomesAsync([Retry(leased, T0, T0.AddSeconds(5))]);

        Assert.Equal(T0.AddSeconds(5), await Store.Events.NextDueAsync("s1"));
        Assert.Empty(await LeaseAsync("s1", now: T0.AddSeconds(4)));
        var second = Assert.Single(await LeaseAsync("s1", now: T0.AddSeconds(5)));
        Assert.Equal(2, second.Attempt);
    }

    [Fact]
    public async Task Delivered_IsCountedAndNeverLeasedAgain()
    {
        await Store.Events.AppendAsync(Event(), ["s1"], null, T0);
        var leased = Assert.Single(await LeaseAsync("s1"));

        await Store.Events.RecordOutcomesAsync([Delivered(leased, T0)]);

        Assert.Equal(new DeliveryCounts(0, 0, 1, 0), (await Store.Events.CountAsync(["s1"]))["s1"]);
        Assert.Empty(await LeaseAsync("s1", now: T0.AddDays(1)));
        Assert.Null(await Store.Events.NextDueAsync("s1"));
    }

    [Fact]
    public async Task Outcomes_InOneBatch_AreAllWritten()
    {
        for (var i = 0; i < 3; i++)
        {
            await Store.Events.AppendAsync(Event(), ["s1"], null, T0);
        }

        var leased = await LeaseAsync("s1");
        await Store.Events.RecordOutcomesAsync([Delivered(leased[0], T0), Retry(leased[1], T0, T0.AddSeconds(1)), Dead(leased[2], T0)]);

        Assert.Equal(new DeliveryCounts(1, 0, 1, 1), (await Store.Events.CountAsync(["s1"]))["s1"]);
    }
}
