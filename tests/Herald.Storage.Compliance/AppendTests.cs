using Herald.Broker.Storage;

namespace Herald.Storage.Compliance;

/// <summary>Append and fan-out: one event, one pending delivery per subscription, body kept byte for byte.</summary>
public abstract class AppendTests : StoreTestBase
{
    [Fact]
    public async Task Append_MakesOnePendingDeliveryPerSubscription()
    {
        var evt = Event();

        var result = await Store.Events.AppendAsync(evt, ["s1", "s2"], null, T0);

        Assert.Equal(new AppendResult(evt.Id, 2, false), result);
        var counts = await Store.Events.CountAsync(["s1", "s2", "s3"]);
        Assert.Equal(new DeliveryCounts(1, 0, 0, 0), counts["s1"]);
        Assert.Equal(new DeliveryCounts(1, 0, 0, 0), counts["s2"]);
        Assert.Equal(DeliveryCounts.Zero, counts["s3"]);
    }

    [Fact]
    public async Task Append_WithNoSubscription_StoresTheEventWithoutDeliveries()
    {
        var result = await Store.Events.AppendAsync(Event(), [], null, T0);

        Assert.Equal(0, result.Deliveries);
        Assert.Empty(await LeaseAsync("s1"));
    }

    [Fact]
    public async Task Leased_EventIsTheAppendedEventByteForByte()
    {
        var evt = Event(body: """{ "a" : [1, 2, 3], "é": "ü" }""");
        await Store.Events.AppendAsync(evt, ["s1"], null, T0);

        var leased = Assert.Single(await LeaseAsync("s1"));

        Assert.Equal(evt.Id, leased.Event.Id);
        Assert.Equal(evt.Body.ToArray(), leased.Event.Body.ToArray());
        Assert.Equal((evt.Account, evt.Workspace, evt.Sender, evt.Key, evt.Subject, evt.Time, evt.TraceParent),
            (leased.Event.Account, leased.Event.Workspace, leased.Event.Sender, leased.Event.Key, leased.Event.Subject, leased.Event.Time, leased.Event.TraceParent));
    }

    [Fact]
    public async Task ConcurrentAppends_AreAllDurable()
    {
        var events = Enumerable.Range(0, 200).Select(i => Event(body: $$"""{"n":{{i}}}""")).ToList();

        await Task.WhenAll(events.Select(e => Store.Events.AppendAsync(e, ["s1"], null, T0).AsTask()));
        await ReopenAsync();

        Assert.Equal(200, (await Store.Events.CountAsync(["s1"]))["s1"].Pending);
    }
}

/// <summary>Dedupe: a repeated idempotency key inside its window returns the first id and writes nothing.</summary>
public abstract class DedupeTests : StoreTestBase
{
    [Fact]
    public async Task RepeatedKey_InsideWindow_ReturnsFirstIdAndFansOutNothing()
    {
        var first = Event();
        await Store.Events.AppendAsync(first, ["s1"], "key-1", T0.AddMinutes(10));

        var again = await Store.Events.AppendAsync(Event(time: T0.AddMinutes(1)), ["s1"], "key-1", T0.AddMinutes(11));

        Assert.Equal(new AppendResult(first.Id, 1, true), again);
        Assert.Equal(1, (await Store.Events.CountAsync(["s1"]))["s1"].Pending);
    }

    [Fact]
    public async Task RepeatedKey_AfterWindow_IsANewEvent()
    {
        await Store.Events.AppendAsync(Event(), ["s1"], "key-1", T0.AddMinutes(10));

        var later = Event(time: T0.AddMinutes(10).AddMilliseconds(1));
        var result = await Store.Events.AppendAsync(later, ["s1"], "key-1", T0.AddMinutes(20));

        Assert.Equal(new AppendResult(later.Id, 1, false), result);
        Assert.Equal(2, (await Store.Events.CountAsync(["s1"]))["s1"].Pending);
    }

    [Fact]
    public async Task SameKey_FromAnotherSenderOrWorkspace_IsNotADuplicate()
    {
        await Store.Events.AppendAsync(Event(), ["s1"], "key-1", T0.AddMinutes(10));

        var otherSender = await Store.Events.AppendAsync(Event(sender: "vtex.other"), ["s1"], "key-1", T0.AddMinutes(10));
        var otherWorkspace = await Store.Events.AppendAsync(Event(workspace: "prod"), ["s1"], "key-1", T0.AddMinutes(10));

        Assert.False(otherSender.Duplicate);
        Assert.False(otherWorkspace.Duplicate);
    }
}
