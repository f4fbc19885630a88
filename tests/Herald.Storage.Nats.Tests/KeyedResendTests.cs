using System.Diagnostics;
using Herald.Delivery;
using Herald.Storage.Compliance;
using Herald.Storage.Nats.Internal;
using Herald.Storage.Nats.Tests.Fixtures;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Herald.Storage.Nats.Tests;

/// <summary>
/// A key resent once its dedupe window has passed makes an event that every replica keeps. nats-server 2.9 checks a
/// message id on each replica as it applies the message, against ids each replica forgets on its own timer: a
/// follower that applied the key's first event late still remembered its id when the leader had forgotten it, and
/// dropped the resend the leader had stored and confirmed, so a fan-out reading that follower never copied it.
/// </summary>
[Collection(NatsClusterCollection.Name)]
public sealed class KeyedResendTests(NatsClusterFixture nats) : IAsyncLifetime
{
    private const string SubscriptionId = "acme/dev/vtex.listener/h1";
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly NatsStoreFactory _factory = new(nats.ClientUrls, 3, new StoreFactoryOptions { DedupeWindow = Window });
    private NatsEventStore? _store;

    private NatsEventStore Store => _store!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task AKeyResentAfterItsWindow_MakesAnEventEveryReplicaKeeps_EvenOneThatAppliedTheFirstLate()
    {
        // The store is opened once to make its streams, and then again connected only to the nodes that keep running.
        var events = new StoreNames(_factory.StoreOptions.Prefix).EventsStream;
        await using (var maker = new NatsEventStore(_factory.StoreOptions))
        {
            await maker.InitializeAsync();
        }

        var follower = await nats.FollowerOfAsync(events);
        var options = _factory.StoreOptions;
        options.Url = string.Join(',', nats.Nodes.Where(node => node != follower).Select(node => node.ClientUrl));
        _store = new NatsEventStore(options);
        await Store.InitializeAsync();
        await Store.SubscriptionChangedAsync(new SubscriptionSpec(SubscriptionId, "acme", "dev", "vtex.listener", "h1", null, ["send-event"], new DeliveryPolicy()));

        // The follower applies the key's first event half a window late, so it would remember the key's message id half
        // a window longer than the leader.
        var sinceFirst = Stopwatch.StartNew();
        follower.Pause();
        HeraldEvent first;
        try
        {
            first = Event();
            Assert.False((await Store.AppendAsync(first, [SubscriptionId], "key-1")).Duplicate);
            await Task.Delay(Window / 2); // the fault's length, not a wait for a condition
        }
        finally
        {
            follower.Resume();
        }

        // Resent until the key is forgotten: inside the window each resend is answered with the first event.
        AppendResult result;
        HeraldEvent resent;
        do
        {
            Assert.True(sinceFirst.Elapsed < Window + Patience, "The key was never forgotten.");
            resent = Event();
            result = await Store.AppendAsync(resent, [SubscriptionId], "key-1");
            Assert.True(!result.Duplicate || result.EventId == first.Id, $"A resend answered {result}.");
        }
        while (result.Duplicate);

        Assert.Equal(new AppendResult(resent.Id, 1, false), result);
        var replicas = await Eventually.ValueAsync(
            async () => await Task.WhenAll(nats.Nodes.Select(node => node.GetReplicaMessagesAsync(events))),
            counts => counts.All(c => c == 2),
            "every replica of the events stream to hold both events",
            Patience);
        Assert.Equal(3, replicas.Length);
        await Eventually.ValueAsync(
            async () => (await Store.CountAsync([SubscriptionId]))[SubscriptionId],
            counts => counts == new DeliveryCounts(2, 0, 0, 0),
            "both events to be queued for the subscription",
            Patience);
    }

    private static HeraldEvent Event() =>
        new(Guid.CreateVersion7(), "acme", "dev", "vtex.sender", "send-event", "", "{}"u8.ToArray(), DateTimeOffset.UtcNow, null);
}
