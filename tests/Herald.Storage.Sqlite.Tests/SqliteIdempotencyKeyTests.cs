namespace Herald.Storage.Sqlite.Tests;

/// <summary>
/// Idempotency keys are forgotten as they expire without reading the whole table: each keyed publish forgets up to two
/// expired keys from the oldest end, and a prune forgets up to ten batches of those left when publishing stopped.
/// </summary>
public sealed class SqliteIdempotencyKeyTests : IAsyncDisposable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly FakeClockFile _file = new();

    [Fact]
    public async Task EachKeyedPublish_ForgetsUpToTwoExpiredKeys_FromTheOldestEnd()
    {
        await using var store = await OpenAsync();
        for (var i = 0; i < 10; i++)
        {
            await PublishAsync(store, "old-" + i);
        }

        _file.Clock.Advance(Window * 2);
        for (var i = 0; i < 4; i++)
        {
            await PublishAsync(store, "new-" + i);
        }

        // 10 old keys, 8 of them forgotten by the 4 new publishes: the 2 newest old ones are still in the file.
        Assert.Equal(["old-8", "old-9", "new-0", "new-1", "new-2", "new-3"], await KeysAsync());
        Assert.True((await PublishAsync(store, "new-0")).Duplicate);
        Assert.False((await PublishAsync(store, "old-9")).Duplicate);
    }

    [Fact]
    public async Task Prune_ForgetsTenBatchesOfExpiredKeys_AndKeepsTheLiveOnes()
    {
        await using var store = await OpenAsync();
        for (var i = 0; i < 30; i++)
        {
            await PublishAsync(store, "old-" + i);
        }

        _file.Clock.Advance(Window / 2);
        for (var i = 0; i < 5; i++)
        {
            await PublishAsync(store, "live-" + i);
        }

        Assert.Equal(35, (await KeysAsync()).Count);

        // The old keys have expired, the live ones have not; a prune with batch 2 forgets at most 20 keys.
        _file.Clock.Advance(Window * 3 / 4);
        Assert.Equal(0, await store.PruneAsync(TimeSpan.FromDays(1), batch: 2));
        Assert.Equal(15, (await KeysAsync()).Count);
        Assert.Equal(0, await store.PruneAsync(TimeSpan.FromDays(1), batch: 2));
        Assert.Equal(["live-0", "live-1", "live-2", "live-3", "live-4"], await KeysAsync());
        Assert.True((await PublishAsync(store, "live-4")).Duplicate);
    }

    private Task<SqliteEventStore> OpenAsync() => _file.OpenAsync(Window);

    private async Task<AppendResult> PublishAsync(SqliteEventStore store, string key) => await store.AppendAsync(_file.NewEvent(), ["s1"], key);

    /// <summary>The keys in the file, oldest written first.</summary>
    private Task<List<string>> KeysAsync() => SqliteFile.ReadTextAsync(_file.DatabasePath, "SELECT key FROM idempotency ORDER BY rowid");

    public ValueTask DisposeAsync() => _file.DisposeAsync();
}
