using Herald.Broker.Storage;

namespace Herald.Storage.Compliance;

/// <summary>Replay: a subscription's delivered and dead deliveries since a time become pending again.</summary>
public abstract class ReplayTests : StoreTestBase
{
    [Fact]
    public async Task Replay_MakesDeliveredAndDeadDeliveriesSinceTheTimePendingAgain_WithAFreshAttemptCount()
    {
        await FinishAsync(Event(time: T0), "s1");
        var recent = await FinishAsync(Event(time: T0.AddHours(1)), "s1");
        var recentDead = await FinishAsync(Event(time: T0.AddHours(2)), "s1", dead: true);
        await FinishAsync(Event(time: T0.AddHours(2)), "other");

        var replayed = await Store.Retention.ReplayAsync("s1", T0.AddMinutes(30), T0.AddHours(3));

        Assert.Equal(2, replayed);
        var leased = await LeaseAsync("s1", now: T0.AddHours(3));
        Assert.Equal(new[] { recent.DeliveryId, recentDead.DeliveryId }.Order(), leased.Select(l => l.DeliveryId).Order());
        Assert.All(leased, l => Assert.Equal(1, l.Attempt));
        Assert.Equal(new DeliveryCounts(0, 0, 1, 0), (await Store.Events.CountAsync(["other"]))["other"]);
    }
}

/// <summary>Pruning: what is past retention goes; what is not finished never does.</summary>
public abstract class PruningTests : StoreTestBase
{
    [Fact]
    public async Task Prune_DeletesOnlyFullyDeliveredEventsOlderThanRetention_InBatches()
    {
        for (var i = 0; i < 5; i++)
        {
            await FinishAsync(Event(time: T0.AddMinutes(i)), "s1");
        }

        await FinishAsync(Event(time: T0), "s2", dead: true);
        await Store.Events.AppendAsync(Event(time: T0), ["s3"], null, T0);
        await FinishAsync(Event(time: T0.AddDays(8)), "s1");

        var first = await Store.Retention.PruneAsync(T0.AddDays(7), T0.AddDays(8), batch: 3);
        var second = await Store.Retention.PruneAsync(T0.AddDays(7), T0.AddDays(8), batch: 3);
        var third = await Store.Retention.PruneAsync(T0.AddDays(7), T0.AddDays(8), batch: 3);

        Assert.Equal((3, 2, 0), (first, second, third));
        Assert.Equal(new DeliveryCounts(0, 0, 1, 0), (await Store.Events.CountAsync(["s1"]))["s1"]);
        Assert.Single(await Store.DeadLetters.ListDeadLettersAsync("acme", "dev", "s2", 10));
        Assert.Single(await LeaseAsync("s3", now: T0.AddDays(8)));
    }

    [Fact]
    public async Task Prune_ForgetsExpiredIdempotencyKeys()
    {
        var first = Event(time: T0);
        await Store.Events.AppendAsync(first, ["s1"], "key-1", T0.AddMinutes(10));

        await Store.Retention.PruneAsync(T0, T0.AddMinutes(10), batch: 10);
        var again = await Store.Events.AppendAsync(Event(time: T0.AddMinutes(5)), ["s1"], "key-1", T0.AddMinutes(15));

        Assert.False(again.Duplicate);
    }
}
