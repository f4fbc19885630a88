using System.Diagnostics;
using System.Text;
using Herald.Delivery;
using Herald.Storage.Nats.Tests.Fixtures;

namespace Herald.Storage.Nats.Tests;

/// <summary>Two brokers' stores on one cluster and one prefix share the registry, the events and the queues.</summary>
[Collection(NatsClusterCollection.Name)]
public sealed class SharedClusterTests(NatsClusterFixture nats) : IAsyncLifetime
{
    private const string SubscriptionId = "acme/dev/vtex.listener/h1";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly NatsStoreFactory _factory = new(nats.ClientUrls, 3);
    private NatsEventStore? _a;
    private NatsEventStore? _b;

    private NatsEventStore A => _a!;

    private NatsEventStore B => _b!;

    public async Task InitializeAsync()
    {
        _a = new NatsEventStore(_factory.StoreOptions);
        await A.InitializeAsync();
        _b = new NatsEventStore(_factory.StoreOptions);
        await B.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (_a is not null)
        {
            await _a.DisposeAsync();
        }

        if (_b is not null)
        {
            await _b.DisposeAsync();
        }

        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task AFeedBatchSentThroughOneStore_ReachesTheOther_AndNotItsSender()
    {
        using var stop = new CancellationTokenSource(Patience);
        var atA = new List<string>();
        var atB = new List<string>();
        var readA = CollectAsync(A, atA, stop.Token);
        var readB = CollectAsync(B, atB, stop.Token);

        // Sent until B has one (its subscription is made in its own time); A's own batches are left out for A.
        var sent = 0;
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (Count(atB) == 0 && !stop.IsCancellationRequested)
        {
            await A.SendAsync("activity", Encoding.UTF8.GetBytes($"[{sent++}]"));
            await poll.WaitForNextTickAsync();
        }

        await B.SendAsync("activity", "[\"from b\"]"u8.ToArray());
        while (!Snapshot(atA).Contains("[\"from b\"]") && !stop.IsCancellationRequested)
        {
            await poll.WaitForNextTickAsync();
        }

        await stop.CancelAsync();
        await Task.WhenAll(readA, readB);
        Assert.Equal(["[\"from b\"]"], atA);
        Assert.NotEmpty(atB);
        Assert.All(atB, batch => Assert.Matches("^\\[[0-9]+\\]$", batch));
        await Assert.ThrowsAsync<ArgumentException>(async () => await A.SendAsync("two.tokens", "[]"u8.ToArray()));

        static int Count(List<string> list) => Snapshot(list).Length;
        static string[] Snapshot(List<string> list)
        {
            lock (list)
            {
                return [.. list];
            }
        }

        static async Task CollectAsync(NatsEventStore store, List<string> into, CancellationToken cancellationToken)
        {
            try
            {
                await foreach (var batch in store.ReceiveAsync("activity", cancellationToken))
                {
                    lock (into)
                    {
                        into.Add(Encoding.UTF8.GetString(batch.Span));
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }
    }

    [Fact]
    public async Task ReadersAnnouncedThroughOneStore_AreHeardByTheOther_AndNotByItself()
    {
        Assert.False(A.HasRemoteReaders("events"));
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        var elapsed = Stopwatch.StartNew();
        // Announced until A hears it (A's subscription to announcements is made in its own time).
        while (!A.HasRemoteReaders("events"))
        {
            Assert.True(elapsed.Elapsed < Patience, "A never heard B's readers.");
            await B.AnnounceReadersAsync("events");
            await poll.WaitForNextTickAsync();
        }

        Assert.False(B.HasRemoteReaders("events"));
        Assert.False(A.HasRemoteReaders("activity"));
    }

    [Fact]
    public async Task AnEventPublishedThroughOneBroker_IsLeasedAndSettledThroughTheOther_AndBothCountIt()
    {
        await A.SubscriptionChangedAsync(new SubscriptionSpec(SubscriptionId, "acme", "dev", "vtex.listener", "h1", null, ["send-event"], new DeliveryPolicy()));
        var evt = new HeraldEvent(Guid.CreateVersion7(), "acme", "dev", "vtex.events-example", "send-event", "", Encoding.UTF8.GetBytes("""{"n":1}"""), DateTimeOffset.UtcNow, null);

        await A.AppendAsync(evt, [SubscriptionId], null);
        await using var queue = await B.OpenQueueAsync(SubscriptionId);
        var lease = await LeaseOneAsync(queue);
        await queue.SettleAsync([Settlement.Delivered(lease, new AttemptRecord(1, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(3), 204, null))]);

        Assert.Equal(evt.Id, lease.Event.Id);
        await Eventually.ValueAsync(async () => (await A.CountAsync([SubscriptionId]))[SubscriptionId], c => c == new DeliveryCounts(0, 0, 1, 0), "the other store to count the delivery as delivered", Patience);
    }

    [Fact]
    public async Task AnAppLinkedThroughOneBroker_IsSeenByTheOthersWatch_AndLoad()
    {
        using var stop = new CancellationTokenSource(Patience);
        var app = new StoredApp("acme", "dev", "vtex.one", "vtex.one@0.1.0", "http://127.0.0.1:5000", "nonce", "hash", """{"name":"one"}""", """{"events":{}}""", DateTimeOffset.UtcNow);
        var seen = Task.Run(async () =>
        {
            await foreach (var change in B.WatchAsync(stop.Token))
            {
                if (change.Sender == app.Sender)
                {
                    return change;
                }
            }

            return null;
        });

        // The watch starts when B's enumeration reaches the server; save until B reports it.
        var elapsed = Stopwatch.StartNew();
        while (!seen.IsCompleted && elapsed.Elapsed < Patience)
        {
            await A.SaveAppAsync(app);
            try
            {
                await seen.WaitAsync(TimeSpan.FromMilliseconds(200));
            }
            catch (TimeoutException)
            {
                // Not seen yet: save again.
            }
        }

        Assert.Equal(new AppChange("acme", "dev", "vtex.one", app), await seen);
        Assert.Contains(app, await B.LoadAppsAsync());
    }

    private static async Task<DeliveryLease> LeaseOneAsync(IDeliveryQueue queue)
    {
        var elapsed = Stopwatch.StartNew();
        while (elapsed.Elapsed < Patience)
        {
            var leases = await queue.LeaseAsync(1, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1));
            if (leases.Count == 1)
            {
                return leases[0];
            }
        }

        Assert.Fail($"No delivery was leased in {Patience.TotalSeconds} s.");
        return null!;
    }
}
