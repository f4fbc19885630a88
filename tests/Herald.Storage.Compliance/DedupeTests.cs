using System.Diagnostics;

namespace Herald.Storage.Compliance;

/// <summary>
/// Dedupe: a repeated idempotency key of the same (account, workspace, sender) inside the store's dedupe window
/// returns the first event's id and delivery count and writes nothing; after the window it is a new event.
/// </summary>
public abstract class DedupeTests : StoreTestBase
{
    [Fact]
    public async Task RepeatedKey_InsideTheWindow_ReturnsTheFirstIdAndDeliveryCount_AndWritesNothing()
    {
        var s1 = await SubscribeAsync("h1");
        var s2 = await SubscribeAsync("h2");
        var first = Event();
        Assert.Equal(new AppendResult(first.Id, 2, false), await Store.Events.AppendAsync(first, [s1, s2], "key-1"));

        var again = await Store.Events.AppendAsync(Event(body: """{"random":43}"""), [s1, s2], "key-1");
        var routedElsewhere = await Store.Events.AppendAsync(Event(), [s1], "key-1");

        Assert.Equal(new AppendResult(first.Id, 2, true), again);
        Assert.Equal(new AppendResult(first.Id, 2, true), routedElsewhere);
        await AssertCountsAsync(s1, new DeliveryCounts(1, 0, 0, 0));
        await AssertCountsAsync(s2, new DeliveryCounts(1, 0, 0, 0));
        Assert.Equal(first.Id, (await LeaseOneAsync(s1)).Event.Id);
        Assert.Equal(first.Id, (await LeaseOneAsync(s2)).Event.Id);
        await AssertNothingDueAsync(s1);
        await AssertNothingDueAsync(s2);
    }

    [Fact]
    public async Task RepeatedKey_AfterTheWindow_IsANewEvent_AndNotBefore()
    {
        await UseNewStoreAsync(new StoreFactoryOptions { DedupeWindow = ShortDedupeWindow });
        var s1 = await SubscribeAsync();
        var first = Event();
        var sinceFirst = Stopwatch.StartNew();
        await Store.Events.AppendAsync(first, [s1], "key-1");

        // Each repeat inside the window writes nothing, so repeating it is a side-effect-free poll.
        HeraldEvent later = null!;
        var result = await EventuallyAsync(
            async () =>
            {
                later = Event();
                var r = await Store.Events.AppendAsync(later, [s1], "key-1");
                Assert.True(!r.Duplicate || r == new AppendResult(first.Id, 1, true), $"A repeat answered {r}.");
                return r;
            },
            r => !r.Duplicate,
            "the key to be forgotten after the dedupe window");

        Assert.True(sinceFirst.Elapsed >= ShortDedupeWindow - Tolerance,
            $"The key was forgotten {sinceFirst.Elapsed.TotalMilliseconds:F0} ms after its first use; the window is {ShortDedupeWindow.TotalMilliseconds:F0} ms.");
        Assert.Equal(new AppendResult(later.Id, 1, false), result);
        await AssertCountsAsync(s1, new DeliveryCounts(2, 0, 0, 0));
    }

    [Fact]
    public async Task RepeatedKey_AfterReopen_IsStillADuplicate()
    {
        var s1 = await SubscribeAsync();
        var first = Event();
        await Store.Events.AppendAsync(first, [s1], "key-1");

        await ReopenAsync();
        var again = await Store.Events.AppendAsync(Event(), [s1], "key-1");

        Assert.Equal(new AppendResult(first.Id, 1, true), again);
        await AssertCountsAsync(s1, new DeliveryCounts(1, 0, 0, 0));
    }

    [Fact]
    public async Task SameKey_FromAnotherSenderWorkspaceOrAccount_IsNotADuplicate()
    {
        var s1 = await SubscribeAsync();
        await Store.Events.AppendAsync(Event(), [s1], "key-1");

        var otherSender = Event(sender: "vtex.other");
        var otherWorkspace = Event(workspace: "prod");
        var otherAccount = Event(account: "globex");
        var noKey = Event();

        Assert.Equal(new AppendResult(otherSender.Id, 1, false), await Store.Events.AppendAsync(otherSender, [s1], "key-1"));
        Assert.Equal(new AppendResult(otherWorkspace.Id, 1, false), await Store.Events.AppendAsync(otherWorkspace, [await SubscribeAsync(workspace: "prod")], "key-1"));
        Assert.Equal(new AppendResult(otherAccount.Id, 1, false), await Store.Events.AppendAsync(otherAccount, [await SubscribeAsync(account: "globex")], "key-1"));
        Assert.Equal(new AppendResult(noKey.Id, 1, false), await Store.Events.AppendAsync(noKey, [s1], null));
        await AssertCountsAsync(s1, new DeliveryCounts(3, 0, 0, 0));
    }
}
