namespace Herald.Storage.Compliance;

/// <summary>
/// Pruning: events past retention whose every delivery was delivered go, in batches; pending, leased and dead ones
/// never do. Expired idempotency keys are forgotten, live ones kept.
/// </summary>
public abstract class PruningTests : StoreTestBase
{
    [Fact]
    public async Task Prune_DeletesOnlyFullyDeliveredEventsPastRetention_InBatches()
    {
        var delivered = await SubscribeAsync("delivered");
        var dead = await SubscribeAsync("dead");
        var pending = await SubscribeAsync("pending");
        var leased = await SubscribeAsync("leased");
        var half = await SubscribeAsync("half");
        var otherHalf = await SubscribeAsync("other-half");
        for (var i = 0; i < 5; i++)
        {
            await FinishAsync(Event(), delivered);
        }

        await FinishAsync(Event(), dead, dead: true);
        await AppendAsync(Event(), pending);
        await AppendAsync(Event(), leased);
        await LeaseOneAsync(leased);
        var shared = Event();
        await AppendAsync(shared, half, otherHalf);
        await SettleAsync(Delivered(await LeaseOneAsync(half)));

        Assert.Equal(0, await Retention.PruneAsync(TimeSpan.FromDays(1), batch: 10));
        await MarkAsync();
        var first = await Retention.PruneAsync(TimeSpan.Zero, batch: 3);
        var second = await Retention.PruneAsync(TimeSpan.Zero, batch: 3);
        var third = await Retention.PruneAsync(TimeSpan.Zero, batch: 3);

        Assert.Equal((3, 2, 0), (first, second, third));
        await AssertCountsAsync(delivered, DeliveryCounts.Zero);
        await AssertCountsAsync(dead, new DeliveryCounts(0, 0, 0, 1));
        Assert.Single(await DeadLettersAsync(dead));
        await AssertCountsAsync(leased, new DeliveryCounts(0, 1, 0, 0));
        await AssertCountsAsync(half, new DeliveryCounts(0, 0, 1, 0));
        Assert.Equal(shared.Id, (await LeaseOneAsync(otherHalf)).Event.Id);
        await LeaseOneAsync(pending);
    }

    [Fact]
    public async Task Prune_KeepsIdempotencyKeysInsideTheWindow()
    {
        var s1 = await SubscribeAsync();
        var first = Event();
        await Store.Events.AppendAsync(first, [s1], "key-1");
        await MarkAsync();

        Assert.Equal(0, await Retention.PruneAsync(TimeSpan.Zero, batch: 10));
        var again = await Store.Events.AppendAsync(Event(), [s1], "key-1");

        Assert.Equal(new AppendResult(first.Id, 1, true), again);
    }

    [Fact]
    public async Task Prune_ForgetsExpiredIdempotencyKeys()
    {
        await UseNewStoreAsync(new StoreFactoryOptions { DedupeWindow = ShortDedupeWindow });
        var s1 = await SubscribeAsync();
        await Store.Events.AppendAsync(Event(), [s1], "key-1");

        // Wait out key-1's window through a key used after it, so key-1 itself is first used again after the prune.
        await Store.Events.AppendAsync(Event(), [], "probe");
        await EventuallyAsync(async () => await Store.Events.AppendAsync(Event(), [], "probe"), r => !r.Duplicate, "the probe key's window to pass");
        Assert.Equal(0, await Retention.PruneAsync(TimeSpan.FromDays(1), batch: 10));
        var again = Event();
        var result = await Store.Events.AppendAsync(again, [s1], "key-1");

        Assert.Equal(new AppendResult(again.Id, 1, false), result);
        await AssertCountsAsync(s1, new DeliveryCounts(2, 0, 0, 0));
    }
}
