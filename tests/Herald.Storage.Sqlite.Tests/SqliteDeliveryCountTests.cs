using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite.Tests;

/// <summary>
/// A subscription's counts are kept by the commits that change its deliveries (<c>subscription_counts</c>), so reading
/// them never reads the deliveries a file keeps for its retention. Checked against a count through the deliveries
/// after every kind of write, and for a file made before the counts were kept.
/// </summary>
public sealed class SqliteDeliveryCountTests : IAsyncDisposable
{
    private const string S1 = "acme/dev/vtex.listener/h1";
    private const string S2 = "acme/dev/vtex.listener/h2";

    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    private readonly FakeClockFile _file = new();

    [Fact]
    public async Task EveryWriteThatChangesDeliveries_KeepsTheCountsOfItsSubscriptions()
    {
        await using var store = await _file.OpenAsync();
        var start = _file.Clock.GetUtcNow();
        for (var i = 0; i < 6; i++)
        {
            await PublishAsync(store, S1, S2);
        }

        Assert.Equal(["h1 6 0 0", "h2 6 0 0"], await CountsAsync(store));

        // Settled: three delivered, one retried, two dead.
        await using (var queue = await store.OpenQueueAsync(S1))
        {
            var leases = await queue.LeaseAsync(6, Lease, TimeSpan.Zero);
            Assert.Equal(6, leases.Count);
            Assert.Equal(["h1 6 0 0", "h2 6 0 0"], await CountsAsync(store));
            await queue.SettleAsync([
                Settlement.Delivered(leases[0], null), Settlement.Delivered(leases[1], null), Settlement.Delivered(leases[2], null),
                Settlement.Retry(leases[3], null, TimeSpan.FromMinutes(5)),
                Settlement.Dead(leases[4], null, "rejected"), Settlement.Dead(leases[5], null, "rejected"),
            ]);
        }

        await using (var queue = await store.OpenQueueAsync(S2))
        {
            var leases = await queue.LeaseAsync(6, Lease, TimeSpan.Zero);
            await queue.SettleAsync([.. leases.Select(lease => Settlement.Delivered(lease, null))]);
        }

        Assert.Equal(["h1 1 3 2", "h2 0 6 0"], await CountsAsync(store));

        // Redriven, dead again, and one of those purged.
        Assert.Equal(2, await store.RedriveAsync("acme", "dev", new DeadLetterSelector(null, S1, null)));
        Assert.Equal(["h1 3 3 0", "h2 0 6 0"], await CountsAsync(store));
        await using (var queue = await store.OpenQueueAsync(S1))
        {
            var leases = await queue.LeaseAsync(6, Lease, TimeSpan.Zero);
            Assert.Equal(2, leases.Count);
            await queue.SettleAsync([.. leases.Select(lease => Settlement.Dead(lease, null, "rejected"))]);
        }

        var letters = await store.ListDeadLettersAsync("acme", "dev", S1, 10);
        Assert.Equal(1, await store.PurgeAsync("acme", "dev", new DeadLetterSelector([letters[0].Id], null, null)));
        Assert.Equal(["h1 1 3 1", "h2 0 6 0"], await CountsAsync(store));

        // Replayed, then the subscription with a pending delivery removed.
        Assert.Equal(6, await store.ReplayAsync(S2, start));
        Assert.Equal(["h1 1 3 1", "h2 6 0 0"], await CountsAsync(store));
        Assert.Equal(1, await store.SubscriptionRemovedAsync(S1, "unlinked"));
        Assert.Equal(["h1 0 3 2", "h2 6 0 0"], await CountsAsync(store));

        // Pruned: only events whose every delivery was delivered go, with those deliveries.
        await using (var queue = await store.OpenQueueAsync(S2))
        {
            var leases = await queue.LeaseAsync(6, Lease, TimeSpan.Zero);
            await queue.SettleAsync([.. leases.Select(lease => Settlement.Delivered(lease, null))]);
        }

        await PublishAsync(store, S2);
        await using (var queue = await store.OpenQueueAsync(S2))
        {
            var leases = await queue.LeaseAsync(6, Lease, TimeSpan.Zero);
            await queue.SettleAsync([.. leases.Select(lease => Settlement.Delivered(lease, null))]);
        }

        // Five events were delivered to every subscription they had: three to both, the purged letter's, the new one.
        _file.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(5, await store.PruneAsync(TimeSpan.FromHours(1), batch: 100));
        Assert.Equal(["h1 0 0 2", "h2 0 2 0"], await CountsAsync(store));
    }

    [Fact]
    public async Task AFileMadeBeforeTheCounts_IsCountedOnceWhenItIsOpened()
    {
        await using (var store = await _file.OpenAsync())
        {
            for (var i = 0; i < 3; i++)
            {
                await PublishAsync(store, S1, S2);
            }

            await using var queue = await store.OpenQueueAsync(S2);
            var leases = await queue.LeaseAsync(3, Lease, TimeSpan.Zero);
            await queue.SettleAsync([Settlement.Delivered(leases[0], null), Settlement.Dead(leases[1], null, "rejected")]);
        }

        await using (var connection = new SqliteConnection($"Data Source={_file.DatabasePath};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE subscription_counts";
            await drop.ExecuteNonQueryAsync();
        }

        await using var reopened = await _file.OpenAsync();
        Assert.Equal(["h1 3 0 0", "h2 1 1 1"], await CountsAsync(reopened));
    }

    /// <summary>
    /// Each subscription's counts as "handler pending delivered dead" (pending with those in flight), after checking that
    /// the store's counts are the ones a count through the file's deliveries gives.
    /// </summary>
    private async Task<List<string>> CountsAsync(SqliteEventStore store)
    {
        var counts = await store.CountAsync([S1, S2]);
        var kept = counts.OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => $"{c.Key[(c.Key.LastIndexOf('/') + 1)..]} {c.Value.Pending + c.Value.InFlight} {c.Value.Delivered} {c.Value.Dead}")
            .ToList();
        var recounted = await SqliteFile.ReadTextAsync(_file.DatabasePath, """
            SELECT substr(subscription_id, 24) || ' ' || SUM(state = 0) || ' ' || SUM(state = 2) || ' ' || SUM(state = 3)
            FROM deliveries GROUP BY subscription_id ORDER BY subscription_id
            """);
        Assert.Equal(recounted, kept.Where(line => !line.EndsWith(" 0 0 0", StringComparison.Ordinal)));
        return kept;
    }

    private async Task PublishAsync(SqliteEventStore store, params string[] subscriptions) => await store.AppendAsync(_file.NewEvent(), subscriptions, null);

    public ValueTask DisposeAsync() => _file.DisposeAsync();
}
