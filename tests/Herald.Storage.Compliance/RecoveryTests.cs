namespace Herald.Storage.Compliance;

/// <summary>What a broker restart finds: every settlement as written, and deliveries left leased due again.</summary>
public abstract class RecoveryTests : StoreTestBase
{
    /// <summary>Long enough that the lease is still held when the store is open again, short enough to wait out.</summary>
    private static readonly TimeSpan CrashedLease = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task LeasedButUnsettledDeliveries_AreDueAgainAfterReopen()
    {
        var s1 = await SubscribeAsync();
        var evt = Event();
        await AppendAsync(evt, s1);
        var leased = await LeaseOneAsync(s1, CrashedLease);

        await ReopenAsync();

        // A store may make them due when it opens or when their lease runs out; either way they come back.
        var again = await LeaseOneAsync(s1);
        Assert.Equal(leased.DeliveryId, again.DeliveryId);
        Assert.Equal(evt.Id, again.Event.Id);
        Assert.Equal(evt.Body.ToArray(), again.Event.Body.ToArray());
        // The attempt under way when the broker died may or may not be counted (the contract leaves it to the store):
        // a store that keeps leases in memory makes it again as the same attempt.
        Assert.InRange(again.Attempt, 1, 2);
        await AssertNothingDueAsync(s1);
    }

    [Fact]
    public async Task Settlements_AreDurableAcrossReopen()
    {
        var s1 = await SubscribeAsync();
        for (var i = 0; i < 3; i++)
        {
            await AppendAsync(Event(), s1);
        }

        var leased = await LeaseUntilAsync(s1, 3);
        var died = Dead(leased[2], "rejected", 422);
        await SettleAsync(Delivered(leased[0]), Retry(leased[1], TimeSpan.FromMinutes(1)), died);

        await ReopenAsync();

        await AssertCountsAsync(s1, new DeliveryCounts(1, 0, 1, 1));
        var letter = await DeadLetterOfAsync(leased[2].Event.Id);
        Assert.Equal(("rejected", s1), (letter.Reason, letter.SubscriptionId));
        Assert.Equal([died.Attempt!], letter.Attempts);
        await AssertNothingDueAsync(s1);
    }

    [Fact]
    public async Task Ping_AnswersTrue_WhenOpen_AndAfterReopen()
    {
        Assert.True(await Store.Events.PingAsync());

        await ReopenAsync();

        Assert.True(await Store.Events.PingAsync());
    }
}
