namespace Herald.Storage.Compliance;

/// <summary>
/// Redrive: matching dead letters of one (account, workspace) are due again at once with a fresh attempt count,
/// selected by ids, subscription, time of death and a limit that takes those dead longest first.
/// </summary>
public abstract class RedriveTests : StoreTestBase
{
    [Fact]
    public async Task RedriveById_MakesItDueAgainWithAFreshAttemptCount()
    {
        var sub = await SubscribeAsync();
        var dead = await DeadAfterTwoAttemptsAsync(sub);
        var other = await FinishAsync(Event(), sub, dead: true);
        var letter = await DeadLetterOfAsync(dead.Event.Id);

        var count = await Store.DeadLetters.RedriveAsync(Account, Workspace, new DeadLetterSelector([letter.Id], null, null));

        Assert.Equal(1, count);
        var again = await LeaseOneAsync(sub);
        Assert.Equal((dead.Event.Id, 1), (again.Event.Id, again.Attempt));
        Assert.Equal(other.Event.Id, Assert.Single(await DeadLettersAsync()).Event.Id);
        await AssertNothingDueAsync(sub);
    }

    [Fact]
    public async Task RedriveBySubscriptionAndSince_TakesOnlyThose()
    {
        var h = await SubscribeAsync("h");
        var g = await SubscribeAsync("g");
        var start = await MarkAsync();
        var early = await FinishAsync(Event(), h, dead: true);
        var since = await MarkAsync();
        var late = await FinishAsync(Event(), h, dead: true);
        var lateOther = await FinishAsync(Event(), g, dead: true);

        Assert.Equal(1, await Store.DeadLetters.CountDeadLettersAsync(Account, Workspace, new DeadLetterSelector(null, h, since)));
        Assert.Equal(1, await Store.DeadLetters.RedriveAsync(Account, Workspace, new DeadLetterSelector(null, h, since)));
        Assert.Equal((late.Event.Id, 1), await EventAndAttemptAsync(h));

        Assert.Equal(2, await Store.DeadLetters.RedriveAsync(Account, Workspace, new DeadLetterSelector(null, null, start)));
        Assert.Equal((early.Event.Id, 1), await EventAndAttemptAsync(h));
        Assert.Equal((lateOther.Event.Id, 1), await EventAndAttemptAsync(g));
        Assert.Empty(await DeadLettersAsync());
    }

    [Fact]
    public async Task RedriveWithALimit_TakesThoseDeadLongestFirst_AndTheCountSaysWhatRemains()
    {
        var sub = await SubscribeAsync();
        var (newest, oldest, middle) = (Event(), Event(), Event());
        foreach (var e in new[] { newest, oldest, middle })
        {
            await AppendAsync(e, sub);
        }

        var leased = (await LeaseUntilAsync(sub, 3)).ToDictionary(l => l.Event.Id);
        foreach (var e in new[] { oldest, middle, newest })
        {
            await SettleAsync(Dead(leased[e.Id]));
            await MarkAsync();
        }

        var all = new DeadLetterSelector(null, sub, null);
        Assert.Equal(3, await Store.DeadLetters.CountDeadLettersAsync(Account, Workspace, all with { Limit = 1 }));

        Assert.Equal(2, await Store.DeadLetters.RedriveAsync(Account, Workspace, all with { Limit = 2 }));

        Assert.Equal(1, await Store.DeadLetters.CountDeadLettersAsync(Account, Workspace, all));
        Assert.Equal(newest.Id, Assert.Single(await DeadLettersAsync()).Event.Id);
        var redriven = await LeaseUntilAsync(sub, 2);
        Assert.Equal(new[] { oldest.Id, middle.Id }.Order(), redriven.Select(d => d.Event.Id).Order());
        Assert.All(redriven, l => Assert.Equal(1, l.Attempt));
        Assert.Equal(0, await Store.DeadLetters.CountDeadLettersAsync(Account, "prod", all));
    }

    [Fact]
    public async Task RedriveInBatches_ALetterThatDiesAgainGoesToTheBack()
    {
        var sub = await SubscribeAsync();
        var first = await FinishAsync(Event(), sub, dead: true);
        await MarkAsync();
        var second = await FinishAsync(Event(), sub, dead: true);
        await MarkAsync();
        var batch = new DeadLetterSelector(null, sub, null, Limit: 1);

        Assert.Equal(1, await Store.DeadLetters.RedriveAsync(Account, Workspace, batch));
        var again = await LeaseOneAsync(sub);
        Assert.Equal(first.Event.Id, again.Event.Id);
        await SettleAsync(Dead(again));
        await MarkAsync();

        Assert.Equal(1, await Store.DeadLetters.RedriveAsync(Account, Workspace, batch));
        Assert.Equal((second.Event.Id, 1), await EventAndAttemptAsync(sub));
        Assert.Equal(first.Event.Id, Assert.Single(await DeadLettersAsync()).Event.Id);
    }

    [Fact]
    public async Task Redrive_NeverTouchesAnotherWorkspace()
    {
        var prod = await SubscribeAsync(workspace: "prod");
        var dev = await SubscribeAsync();
        var other = await FinishAsync(Event(workspace: "prod"), prod, dead: true);
        var otherId = (await DeadLetterOfAsync(other.Event.Id, workspace: "prod")).Id;

        Assert.Equal(0, await Store.DeadLetters.RedriveAsync(Account, Workspace, new DeadLetterSelector([otherId], null, null)));
        Assert.Equal(0, await Store.DeadLetters.RedriveAsync(Account, Workspace, new DeadLetterSelector(null, prod, null)));
        Assert.Equal(0, await Store.DeadLetters.RedriveAsync("globex", "prod", new DeadLetterSelector([otherId], null, null)));
        Assert.Equal(0, await Store.DeadLetters.CountDeadLettersAsync(Account, Workspace, new DeadLetterSelector([otherId], null, null)));

        Assert.Equal(otherId, Assert.Single(await DeadLettersAsync(workspace: "prod")).Id);
        await AssertNothingDueAsync(prod);
        await AssertNothingDueAsync(dev);
    }

    [Fact]
    public async Task RedrivePurgeAndCount_WithAnIdTheStoreNeverHandedOut_ThrowInvalidStoreId_AndChangeNothing()
    {
        var sub = await SubscribeAsync();
        var dead = await FinishAsync(Event(), sub, dead: true);
        var letterId = (await DeadLetterOfAsync(dead.Event.Id)).Id;
        var bogus = new DeadLetterSelector(["not-an-id"], null, null);
        var mixed = new DeadLetterSelector([letterId, "not-an-id"], null, null);

        foreach (var selector in new[] { bogus, mixed })
        {
            Assert.Equal("not-an-id", (await Assert.ThrowsAsync<InvalidStoreIdException>(async () => await Store.DeadLetters.RedriveAsync(Account, Workspace, selector))).Id);
            Assert.Equal("not-an-id", (await Assert.ThrowsAsync<InvalidStoreIdException>(async () => await Store.DeadLetters.PurgeAsync(Account, Workspace, selector))).Id);
            Assert.Equal("not-an-id", (await Assert.ThrowsAsync<InvalidStoreIdException>(async () => await Store.DeadLetters.CountDeadLettersAsync(Account, Workspace, selector))).Id);
        }

        Assert.Equal(letterId, Assert.Single(await DeadLettersAsync()).Id);
        await AssertNothingDueAsync(sub);
    }

    /// <summary>Appends an event and dead-letters it on its second attempt; returns the last lease.</summary>
    private async Task<DeliveryLease> DeadAfterTwoAttemptsAsync(string subscriptionId)
    {
        await AppendAsync(Event(), subscriptionId);
        var first = await LeaseOneAsync(subscriptionId);
        await SettleAsync(Retry(first, TimeSpan.Zero));
        var second = await LeaseOneAsync(subscriptionId);
        Assert.Equal(2, second.Attempt);
        await SettleAsync(Dead(second, "retries-exhausted"));
        return second;
    }

    /// <summary>Leases the one delivery due and settles it delivered; returns its event and attempt.</summary>
    private async Task<(Guid EventId, int Attempt)> EventAndAttemptAsync(string subscriptionId)
    {
        var lease = await LeaseOneAsync(subscriptionId);
        await SettleAsync(Delivered(lease));
        return (lease.Event.Id, lease.Attempt);
    }
}
