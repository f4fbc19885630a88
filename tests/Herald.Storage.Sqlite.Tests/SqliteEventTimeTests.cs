using Herald.Storage.Compliance;

namespace Herald.Storage.Sqlite.Tests;

/// <summary>
/// Events have no index on their time: replay and pruning find a time by a binary search over the sequence, with a
/// slack for an event whose time trails one accepted before it. These check both against times out of order.
/// </summary>
public sealed class SqliteEventTimeTests
{
    private static readonly DateTimeOffset T = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Replay_FindsExactlyTheEventsSinceTheTime_WhenTimesTrailTheOrderOfAcceptance()
    {
        await using var factory = new SqliteStoreFactory();
        await using var handle = await factory.OpenAsync();
        // Accepted in this order, minutes apart; the third and fifth trail the event accepted before them by seconds.
        var offsets = new[] { 0, 100_000, 95_000, 200_000, 190_000, 300_000 };
        var events = await DeliverAllAsync(handle, "s1", offsets);

        var replayed = await handle.Retention!.ReplayAsync("s1", T.AddMilliseconds(190_000));

        var since = offsets.Select((offset, i) => (offset, events[i].Id)).Where(e => e.offset >= 190_000).Select(e => e.Id).ToHashSet();
        Assert.Equal(since.Count, replayed);
        await using var queue = await handle.Events.OpenQueueAsync("s1");
        var leased = await queue.LeaseAsync(10, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5));
        Assert.Equal(since, leased.Select(l => l.Event.Id).ToHashSet());
    }

    [Fact]
    public async Task Prune_RemovesEveryOldEvent_WhenTimesTrailTheOrderOfAcceptance_AndKeepsNewerOnes()
    {
        await using var factory = new SqliteStoreFactory();
        await using var handle = await factory.OpenAsync();
        var old = await DeliverAllAsync(handle, "s1", [0, 100_000, 95_000, 200_000, 190_000]);
        var recent = new HeraldEvent(Guid.CreateVersion7(), "acme", "dev", "vtex.sender", "k", "", "{}"u8.ToArray(), DateTimeOffset.UtcNow, null);
        await handle.Events.AppendAsync(recent, ["s2"], null);

        Assert.Equal(old.Count, await handle.Retention!.PruneAsync(TimeSpan.FromDays(1), batch: 100));

        Assert.Equal(0, await handle.Retention!.PruneAsync(TimeSpan.FromDays(1), batch: 100));
        await using var queue = await handle.Events.OpenQueueAsync("s2");
        var lease = Assert.Single(await queue.LeaseAsync(10, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5)));
        Assert.Equal(recent.Id, lease.Event.Id);
    }

    /// <summary>Appends an event at T plus each offset (ms), in the order given, and settles each one delivered.</summary>
    private static async Task<List<HeraldEvent>> DeliverAllAsync(StoreHandle handle, string subscriptionId, int[] offsets)
    {
        var events = new List<HeraldEvent>();
        await using var queue = await handle.Events.OpenQueueAsync(subscriptionId);
        foreach (var offset in offsets)
        {
            var evt = new HeraldEvent(Guid.CreateVersion7(), "acme", "dev", "vtex.sender", "k", "", "{}"u8.ToArray(), T.AddMilliseconds(offset), null);
            await handle.Events.AppendAsync(evt, [subscriptionId], null);
            var lease = Assert.Single(await queue.LeaseAsync(1, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(5)));
            Assert.Equal(evt.Id, lease.Event.Id);
            await queue.SettleAsync([Settlement.Delivered(lease, null)]);
            events.Add(evt);
        }

        return events;
    }
}
