namespace Herald.Storage.Compliance;

/// <summary>Append and fan-out: one event, one due delivery per routed subscription, the event kept byte for byte, durable when it returns.</summary>
public abstract class AppendTests : StoreTestBase
{
    [Fact]
    public async Task Append_MakesOnePendingDeliveryPerSubscription()
    {
        var s1 = await SubscribeAsync("h1");
        var s2 = await SubscribeAsync("h2");
        var s3 = await SubscribeAsync("h3");
        var evt = Event();

        var result = await AppendAsync(evt, s1, s2);

        Assert.Equal(new AppendResult(evt.Id, 2, false), result);
        await AssertCountsAsync(s1, new DeliveryCounts(1, 0, 0, 0));
        await AssertCountsAsync(s2, new DeliveryCounts(1, 0, 0, 0));
        var counts = await Store.Events.CountAsync([s1, s2, s3, SubscriptionId("never-declared")]);
        Assert.Equal(DeliveryCounts.Zero, counts[s3]);
        Assert.Equal(DeliveryCounts.Zero, counts[SubscriptionId("never-declared")]);
        Assert.Equal(evt.Id, (await LeaseOneAsync(s1)).Event.Id);
        Assert.Equal(evt.Id, (await LeaseOneAsync(s2)).Event.Id);
        await AssertNothingDueAsync(s3);
    }

    [Fact]
    public async Task Append_WithNoSubscription_StoresTheEventWithoutDeliveries()
    {
        var s1 = await SubscribeAsync();
        var evt = Event();

        var result = await AppendAsync(evt);

        Assert.Equal(new AppendResult(evt.Id, 0, false), result);
        await AssertNothingDueAsync(s1);
        Assert.Equal(DeliveryCounts.Zero, await CountAsync(s1));
    }

    [Fact]
    public async Task Leased_EventIsTheAppendedEvent_ByteForByte()
    {
        var s1 = await SubscribeAsync();
        var full = Event(body: """{ "a" : [1, 2, 3], "é": "ü", "n": 1.50 }""", subject: "orders/42", key: "order.created");
        var bare = Event(body: "[]", subject: "", traceParent: null);
        await AppendAsync(full, s1);
        await AppendAsync(bare, s1);

        var leased = await LeaseUntilAsync(s1, 2);

        foreach (var (sent, got) in new[] { full, bare }.Zip(leased.Select(l => l.Event)))
        {
            Assert.Equal(sent.Id, got.Id);
            Assert.Equal(sent.Body.ToArray(), got.Body.ToArray());
            Assert.Equal((sent.Account, sent.Workspace, sent.Sender, sent.Key, sent.Subject, sent.Time, sent.TraceParent, sent.TraceState),
                (got.Account, got.Workspace, got.Sender, got.Key, got.Subject, got.Time, got.TraceParent, got.TraceState));
        }
    }

    [Fact]
    public async Task ConcurrentAppends_AreAllDurable()
    {
        var s1 = await SubscribeAsync();
        var events = Enumerable.Range(0, 200).Select(i => Event(body: $$"""{"n":{{i}}}""")).ToList();

        await Task.WhenAll(events.Select(e => Store.Events.AppendAsync(e, [s1], null).AsTask()));
        await ReopenAsync();

        await AssertCountsAsync(s1, new DeliveryCounts(200, 0, 0, 0));
        var leased = await LeaseUntilAsync(s1, 200);
        Assert.Equal(events.Select(e => e.Id).Order(), leased.Select(l => l.Event.Id).Order());
        Assert.Equal(events.Select(e => e.Body.ToArray().Length).Order(), leased.Select(l => l.Event.Body.Length).Order());
    }
}
