using Herald.Broker.Storage;

namespace Herald.Storage.Compliance;

/// <summary>Dead letters keep the event, the subscription, the reason and every attempt; they stay in their workspace.</summary>
public abstract class DeadLetterTests : StoreTestBase
{
    [Fact]
    public async Task DeadLetter_KeepsEventReasonAndEveryAttempt()
    {
        var evt = Event();
        await Store.Events.AppendAsync(evt, ["acme/dev/vtex.live-users/h"], null, T0);
        var first = Assert.Single(await LeaseAsync("acme/dev/vtex.live-users/h"));
        await Store.Events.RecordOutcomesAsync([Retry(first, T0, T0.AddSeconds(1), status: 503)]);
        var second = Assert.Single(await LeaseAsync("acme/dev/vtex.live-users/h", now: T0.AddSeconds(1)));
        await Store.Events.RecordOutcomesAsync([Dead(second, T0.AddSeconds(1), "retries-exhausted", 500)]);

        var letter = Assert.Single(await Store.DeadLetters.ListDeadLettersAsync("acme", "dev", null, 10));

        Assert.Equal(evt.Id, letter.Event.Id);
        Assert.Equal(evt.Body.ToArray(), letter.Event.Body.ToArray());
        Assert.Equal("acme/dev/vtex.live-users/h", letter.SubscriptionId);
        Assert.Equal("retries-exhausted", letter.Reason);
        Assert.Equal(T0.AddSeconds(1), letter.DeadAt);
        Assert.Equal([(1, 503), (2, 500)], letter.Attempts.Select(a => (a.Attempt, a.Status ?? 0)));
    }

    [Fact]
    public async Task DeadLetters_AreListedOnlyInTheirWorkspace_AndBySubscription()
    {
        await Store.Events.AppendAsync(Event(workspace: "a"), ["acme/a/x.y/h"], null, T0);
        await Store.Events.AppendAsync(Event(workspace: "b"), ["acme/b/x.y/h", "acme/b/x.y/g"], null, T0);
        foreach (var sub in new[] { "acme/a/x.y/h", "acme/b/x.y/h", "acme/b/x.y/g" })
        {
            await Store.Events.RecordOutcomesAsync([Dead(Assert.Single(await LeaseAsync(sub)), T0)]);
        }

        Assert.Single(await Store.DeadLetters.ListDeadLettersAsync("acme", "a", null, 10));
        Assert.Equal(2, (await Store.DeadLetters.ListDeadLettersAsync("acme", "b", null, 10)).Count);
        Assert.Single(await Store.DeadLetters.ListDeadLettersAsync("acme", "b", "acme/b/x.y/g", 10));
        Assert.Empty(await Store.DeadLetters.ListDeadLettersAsync("other", "a", null, 10));
    }

    [Fact]
    public async Task DeadLetterSubscription_DeadLettersEveryUndeliveredDeliveryWithTheReason()
    {
        await Store.Events.AppendAsync(Event(), ["s1"], null, T0);
        await Store.Events.AppendAsync(Event(), ["s1"], null, T0);
        await Store.Events.AppendAsync(Event(), ["s1"], null, T0);
        var leased = await LeaseAsync("s1", max: 2);
        await Store.Events.RecordOutcomesAsync([Delivered(leased[0], T0)]);

        var count = await Store.Events.DeadLetterSubscriptionAsync("s1", "subscription-removed", T0);

        Assert.Equal(2, count);
        Assert.Equal(new DeliveryCounts(0, 0, 1, 2), (await Store.Events.CountAsync(["s1"]))["s1"]);
    }

    [Fact]
    public async Task Purge_DeletesOnlyMatchingDeadLettersOfItsWorkspace()
    {
        var dead = await FinishAsync(Event(), "acme/dev/x.y/h", dead: true);
        await FinishAsync(Event(), "acme/dev/x.y/g", dead: true);
        await FinishAsync(Event(workspace: "prod"), "acme/prod/x.y/h", dead: true);

        Assert.Equal(0, await Store.DeadLetters.PurgeAsync("acme", "prod", new RedriveSelector([dead.DeliveryId], null, null)));
        Assert.Equal(1, await Store.DeadLetters.PurgeAsync("acme", "dev", new RedriveSelector(null, "acme/dev/x.y/h", null)));

        var left = await Store.DeadLetters.ListDeadLettersAsync("acme", "dev", null, 10);
        Assert.Equal("acme/dev/x.y/g", Assert.Single(left).SubscriptionId);
        Assert.Single(await Store.DeadLetters.ListDeadLettersAsync("acme", "prod", null, 10));
    }
}

/// <summary>Redrive: matching dead letters become pending again with a fresh attempt count.</summary>
public abstract class RedriveTests : StoreTestBase
{
    private async Task<LeasedDelivery> DeadAsync(string subscription, DateTimeOffset at, string workspace = "dev")
    {
        await Store.Events.AppendAsync(Event(workspace: workspace), [subscription], null, T0);
        var leased = Assert.Single(await LeaseAsync(subscription, max: 1, now: at));
        await Store.Events.RecordOutcomesAsync([Dead(leased, at)]);
        return leased;
    }

    [Fact]
    public async Task RedriveById_MakesItPendingWithAFreshAttemptCount()
    {
        var dead = await DeadAsync("acme/dev/x.y/h", T0);
        await DeadAsync("acme/dev/x.y/h", T0);

        var count = await Store.DeadLetters.RedriveAsync("acme", "dev", new RedriveSelector([dead.DeliveryId], null, null), T0.AddMinutes(1));

        Assert.Equal(1, count);
        var again = Assert.Single(await LeaseAsync("acme/dev/x.y/h", now: T0.AddMinutes(1)));
        Assert.Equal(dead.DeliveryId, again.DeliveryId);
        Assert.Equal(1, again.Attempt);
        Assert.Single(await Store.DeadLetters.ListDeadLettersAsync("acme", "dev", null, 10));
    }

    [Fact]
    public async Task RedriveBySubscriptionAndSince_TakesOnlyThose()
    {
        await DeadAsync("acme/dev/x.y/h", T0);
        await DeadAsync("acme/dev/x.y/h", T0.AddHours(1));
        await DeadAsync("acme/dev/x.y/g", T0.AddHours(1));

        Assert.Equal(1, await Store.DeadLetters.RedriveAsync("acme", "dev", new RedriveSelector(null, "acme/dev/x.y/h", T0.AddMinutes(30)), T0.AddHours(2)));
        Assert.Equal(2, await Store.DeadLetters.RedriveAsync("acme", "dev", new RedriveSelector(null, null, T0), T0.AddHours(2)));
    }

    [Fact]
    public async Task RedriveWithALimit_TakesThoseDeadLongestFirst_AndTheCountSaysWhatRemains()
    {
        var newest = await DeadAsync("acme/dev/x.y/h", T0.AddMinutes(3));
        var oldest = await DeadAsync("acme/dev/x.y/h", T0.AddMinutes(1));
        var middle = await DeadAsync("acme/dev/x.y/h", T0.AddMinutes(2));
        var all = new RedriveSelector(null, "acme/dev/x.y/h", null);
        Assert.Equal(3, await Store.DeadLetters.CountDeadLettersAsync("acme", "dev", all with { Limit = 1 }));

        Assert.Equal(2, await Store.DeadLetters.RedriveAsync("acme", "dev", all with { Limit = 2 }, T0.AddHours(1)));

        Assert.Equal(1, await Store.DeadLetters.CountDeadLettersAsync("acme", "dev", all));
        Assert.Equal(newest.DeliveryId, Assert.Single(await Store.DeadLetters.ListDeadLettersAsync("acme", "dev", null, 10)).DeliveryId);
        var redriven = await LeaseAsync("acme/dev/x.y/h", now: T0.AddHours(1));
        Assert.Equal(new[] { oldest.DeliveryId, middle.DeliveryId }.Order(), redriven.Select(d => d.DeliveryId).Order());
        Assert.Equal(0, await Store.DeadLetters.CountDeadLettersAsync("acme", "prod", all));
    }

    [Fact]
    public async Task Redrive_NeverTouchesAnotherWorkspace()
    {
        var other = await DeadAsync("acme/prod/x.y/h", T0, workspace: "prod");

        var count = await Store.DeadLetters.RedriveAsync("acme", "dev", new RedriveSelector([other.DeliveryId], null, null), T0);

        Assert.Equal(0, count);
        Assert.Single(await Store.DeadLetters.ListDeadLettersAsync("acme", "prod", null, 10));
    }
}

/// <summary>Crash recovery and the registry survive a restart.</summary>
public abstract class RecoveryTests : StoreTestBase
{
    [Fact]
    public async Task InFlightDeliveries_AreDueAgainAfterRestart()
    {
        await Store.Events.AppendAsync(Event(), ["s1"], null, T0);
        var leased = Assert.Single(await Store.Events.LeaseAsync("s1", 10, T0, T0.AddHours(1)));

        await ReopenAsync();

        var again = Assert.Single(await LeaseAsync("s1", now: T0.AddSeconds(1)));
        Assert.Equal(leased.DeliveryId, again.DeliveryId);
    }

    [Fact]
    public async Task Apps_AreKeptAcrossRestart_AndCanBeReplacedAndDeleted()
    {
        var app = new StoredApp("acme", "dev", "vtex.live-users", "vtex.live-users@0.1.0", "http://127.0.0.1:5000", "nonce", "hash", "{}", "{}", T0);
        await Store.Apps.SaveAppAsync(app);
        await Store.Apps.SaveAppAsync(app with { Endpoint = "http://127.0.0.1:5001", LinkNonce = "nonce2" });

        await ReopenAsync();

        var loaded = Assert.Single(await Store.Apps.LoadAppsAsync());
        Assert.Equal(app with { Endpoint = "http://127.0.0.1:5001", LinkNonce = "nonce2" }, loaded);
        Assert.True(await Store.Apps.DeleteAppAsync("acme", "dev", "vtex.live-users"));
        Assert.False(await Store.Apps.DeleteAppAsync("acme", "dev", "vtex.live-users"));
        Assert.Empty(await Store.Apps.LoadAppsAsync());
    }
}
