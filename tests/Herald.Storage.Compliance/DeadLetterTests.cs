namespace Herald.Storage.Compliance;

/// <summary>
/// Dead letters keep the event, the subscription, the reason and every attempt; they are listed newest first, only in
/// their (account, workspace), and purged for good.
/// </summary>
public abstract class DeadLetterTests : StoreTestBase
{
    [Fact]
    public async Task DeadLetter_KeepsEventSubscriptionReasonAndEveryAttempt()
    {
        var sub = await SubscribeAsync();
        var evt = Event(body: """{ "order": 42, "ü": true }""");
        await AppendAsync(evt, sub);
        var first = await LeaseOneAsync(sub);
        var failed = Retry(first, TimeSpan.Zero, status: 503);
        await SettleAsync(failed);
        var second = await LeaseOneAsync(sub);
        var beforeDeath = Now();
        var died = Dead(second, "retries-exhausted", status: 500);
        await SettleAsync(died);

        var letter = Assert.Single(await DeadLettersAsync());

        Assert.False(string.IsNullOrEmpty(letter.Id));
        Assert.Equal(evt.Id, letter.Event.Id);
        Assert.Equal(evt.Body.ToArray(), letter.Event.Body.ToArray());
        Assert.Equal((evt.Account, evt.Workspace, evt.Sender, evt.Key, evt.Time), (letter.Event.Account, letter.Event.Workspace, letter.Event.Sender, letter.Event.Key, letter.Event.Time));
        Assert.Equal(sub, letter.SubscriptionId);
        Assert.Equal("retries-exhausted", letter.Reason);
        Assert.True(letter.DeadAt >= beforeDeath - TimeSpan.FromMilliseconds(100), $"Dead at {letter.DeadAt:O}, before the settlement that killed it ({beforeDeath:O}).");
        Assert.Equal([failed.Attempt!, died.Attempt!], letter.Attempts);
    }

    [Fact]
    public async Task DeadLetter_WithoutARecordOfItsLastAttempt_KeepsTheEarlierOnes()
    {
        var sub = await SubscribeAsync();
        await AppendAsync(Event(), sub);
        var first = await LeaseOneAsync(sub);
        var failed = Retry(first, TimeSpan.Zero, status: 502);
        await SettleAsync(failed);
        var second = await LeaseOneAsync(sub);

        await SettleAsync(Settlement.Dead(second, null, "event-too-old"));

        var letter = Assert.Single(await DeadLettersAsync());
        Assert.Equal("event-too-old", letter.Reason);
        Assert.Equal([failed.Attempt!], letter.Attempts);
    }

    [Fact]
    public async Task DeadLetters_AreListedNewestFirst_UpToTheLimit()
    {
        var sub = await SubscribeAsync();
        var events = Enumerable.Range(0, 3).Select(i => Event(body: $$"""{"n":{{i}}}""")).ToList();
        foreach (var e in events)
        {
            await AppendAsync(e, sub);
        }

        var leased = await LeaseUntilAsync(sub, 3);
        foreach (var lease in new[] { leased[1], leased[0], leased[2] })
        {
            await SettleAsync(Dead(lease));
            await MarkAsync();
        }

        var all = await DeadLettersAsync(sub, limit: 10);
        var two = await DeadLettersAsync(sub, limit: 2);

        Assert.Equal([events[2].Id, events[0].Id, events[1].Id], all.Select(l => l.Event.Id));
        Assert.Equal([events[2].Id, events[0].Id], two.Select(l => l.Event.Id));
        Assert.True(all[0].DeadAt > all[1].DeadAt && all[1].DeadAt > all[2].DeadAt, "Dead letters listed newest first should have falling DeadAt.");
        Assert.Equal(3, all.Select(l => l.Id).Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task DeadLetters_AreListedOnlyInTheirWorkspace_AndBySubscription()
    {
        var ah = await SubscribeAsync("h", workspace: "a");
        var bh = await SubscribeAsync("h", workspace: "b");
        var bg = await SubscribeAsync("g", workspace: "b");
        await AppendAsync(Event(workspace: "a"), ah);
        await AppendAsync(Event(workspace: "b"), bh, bg);
        foreach (var sub in new[] { ah, bh, bg })
        {
            await SettleAsync(Dead(await LeaseOneAsync(sub)));
        }

        Assert.Equal(ah, Assert.Single(await DeadLettersAsync(workspace: "a")).SubscriptionId);
        Assert.Equal([bg, bh], (await DeadLettersAsync(workspace: "b")).Select(l => l.SubscriptionId).Order(StringComparer.Ordinal));
        Assert.Equal(bg, Assert.Single(await DeadLettersAsync(bg, workspace: "b")).SubscriptionId);
        Assert.Empty(await DeadLettersAsync(ah, workspace: "b"));
        Assert.Empty(await DeadLettersAsync(workspace: "a", account: "other"));
        Assert.Empty(await DeadLettersAsync(workspace: "c"));
    }

    [Fact]
    public async Task Purge_DeletesOnlyMatchingDeadLettersOfItsWorkspace()
    {
        var devH = await SubscribeAsync("h");
        var devG = await SubscribeAsync("g");
        var devF = await SubscribeAsync("f");
        var prodH = await SubscribeAsync("h", workspace: "prod");
        var dead = await FinishAsync(Event(), devH, dead: true);
        await FinishAsync(Event(), devG, dead: true);
        var byId = await FinishAsync(Event(), devF, dead: true);
        await FinishAsync(Event(workspace: "prod"), prodH, dead: true);
        var deadId = (await DeadLetterOfAsync(dead.Event.Id)).Id;
        var byIdId = (await DeadLetterOfAsync(byId.Event.Id)).Id;

        Assert.Equal(0, await Store.DeadLetters.PurgeAsync(Account, "prod", new DeadLetterSelector([deadId], null, null)));
        Assert.Equal(1, await Store.DeadLetters.PurgeAsync(Account, Workspace, new DeadLetterSelector(null, devH, null)));
        Assert.Equal(1, await Store.DeadLetters.PurgeAsync(Account, Workspace, new DeadLetterSelector([byIdId], null, null)));
        Assert.Equal(0, await Store.DeadLetters.PurgeAsync(Account, Workspace, new DeadLetterSelector([byIdId], null, null)));

        Assert.Equal(devG, Assert.Single(await DeadLettersAsync()).SubscriptionId);
        Assert.Equal(prodH, Assert.Single(await DeadLettersAsync(workspace: "prod")).SubscriptionId);
        Assert.Equal(0, await Store.DeadLetters.RedriveAsync(Account, Workspace, new DeadLetterSelector([deadId], null, null)));
        await AssertNothingDueAsync(devH);
    }
}
