using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite.Tests;

public sealed class SqliteFileTests
{
    [Fact]
    public async Task Store_UsesWalJournalOnARealFile()
    {
        await using var factory = new SqliteStoreFactory();
        await using (await factory.OpenAsync())
        {
            await using var connection = new SqliteConnection($"Data Source={factory.DatabasePath}");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode";
            Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
        }

        Assert.True(File.Exists(factory.DatabasePath));
    }

    [Fact]
    public async Task Open_ADatabaseFromBeforeTraceState_AddsTheColumn_AndKeepsItsEvents()
    {
        await using var factory = new SqliteStoreFactory();
        await WriteOlderFileAsync(factory.DatabasePath, """
                CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, account TEXT NOT NULL, workspace TEXT NOT NULL,
                    sender TEXT NOT NULL, key TEXT NOT NULL, subject TEXT NOT NULL, body BLOB NOT NULL, time INTEGER NOT NULL, traceparent TEXT);
                INSERT INTO events VALUES (1, '0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', 'acme', 'dev', 'vtex.sender', 'k', '', X'7B7D', 1700000000000,
                    '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
                INSERT INTO deliveries (event_seq, subscription_id, state, due_at) VALUES (1, 's1', 0, 0);
                """);

        await using var store = await factory.OpenAsync();
        await using var queue = await store.Events.OpenQueueAsync("s1");
        var lease = Assert.Single(await queue.LeaseAsync(1, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5)));

        Assert.Equal(Guid.Parse("0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), lease.Event.Id);
        Assert.Equal("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", lease.Event.TraceParent);
        Assert.Null(lease.Event.TraceState);
        var later = new HeraldEvent(Guid.CreateVersion7(), "acme", "dev", "vtex.sender", "k", "", "{}"u8.ToArray(), DateTimeOffset.UtcNow, lease.Event.TraceParent) { TraceState = "vendor=1" };
        await store.Events.AppendAsync(later, ["s1"], null);
        var next = Assert.Single(await queue.LeaseAsync(1, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5)));
        Assert.Equal("vendor=1", next.Event.TraceState);
    }

    [Fact]
    public async Task Open_ADatabaseWithTheOlderIndexes_ReplacesThem_AndMakesRowsMarkedInFlightDue()
    {
        await using var factory = new SqliteStoreFactory();
        await WriteOlderFileAsync(factory.DatabasePath, """
                CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, account TEXT NOT NULL, workspace TEXT NOT NULL,
                    sender TEXT NOT NULL, key TEXT NOT NULL, subject TEXT NOT NULL, body BLOB NOT NULL, time INTEGER NOT NULL, traceparent TEXT, tracestate TEXT);
                CREATE INDEX deliveries_due ON deliveries (subscription_id, due_at) WHERE state IN (0, 1);
                CREATE INDEX deliveries_state ON deliveries (subscription_id, state);
                CREATE INDEX events_tenant ON events (account, workspace, seq);
                CREATE INDEX events_time ON events (time);
                INSERT INTO events VALUES (1, '0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', 'acme', 'dev', 'vtex.sender', 'k', '', X'7B7D', 1700000000000, NULL, NULL);
                INSERT INTO events VALUES (2, '0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c', 'acme', 'dev', 'vtex.sender', 'k', '', X'7B7D', 1700000000001, NULL, NULL);
                INSERT INTO deliveries (event_seq, subscription_id, state, due_at) VALUES (1, 's1', 1, 4102444800000);
                INSERT INTO deliveries (event_seq, subscription_id, state, due_at) VALUES (2, 's1', 0, 0);
                """);

        await using (var store = await factory.OpenAsync())
        await using (var queue = await store.Events.OpenQueueAsync("s1"))
        {
            // The row an older broker had marked in flight (due far in the future) is due at once, as the pending one is.
            var leased = await queue.LeaseAsync(2, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5));
            Assert.Equal(
                [Guid.Parse("0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), Guid.Parse("0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c")],
                leased.Select(l => l.Event.Id).Order());
            var counts = (await store.Events.CountAsync(["s1"]))["s1"];
            Assert.Equal(2, counts.Pending + counts.InFlight);
        }

        SqliteConnection.ClearAllPools();
        await using var check = new SqliteConnection($"Data Source={factory.DatabasePath}");
        await check.OpenAsync();
        await using var indexes = check.CreateCommand();
        indexes.CommandText = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('events', 'deliveries') AND name NOT LIKE 'sqlite_%' ORDER BY name";
        var names = new List<string>();
        await using (var reader = await indexes.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                names.Add(reader.GetString(0));
            }
        }

        Assert.Equal(["deliveries_dead", "deliveries_event", "deliveries_pending"], names);
    }

    [Fact]
    public async Task Open_ADatabaseWithTheQueueIndexOfEveryState_ReplacesItWithThePendingIndex_AndKeepsItsQueue()
    {
        await using var factory = new SqliteStoreFactory();
        await WriteOlderFileAsync(factory.DatabasePath, """
                CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, account TEXT NOT NULL, workspace TEXT NOT NULL,
                    sender TEXT NOT NULL, key TEXT NOT NULL, subject TEXT NOT NULL, body BLOB NOT NULL, time INTEGER NOT NULL, traceparent TEXT, tracestate TEXT);
                CREATE INDEX deliveries_event ON deliveries (event_seq);
                CREATE INDEX deliveries_queue ON deliveries (subscription_id, state, due_at);
                CREATE INDEX deliveries_dead ON deliveries (dead_at, id) WHERE state = 3;
                INSERT INTO events VALUES (1, '0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a51', 'acme', 'dev', 'vtex.sender', 'k', '', X'7B7D', 1700000000000, NULL, NULL);
                INSERT INTO events VALUES (2, '0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a52', 'acme', 'dev', 'vtex.sender', 'k', '', X'7B7D', 1700000000001, NULL, NULL);
                INSERT INTO events VALUES (3, '0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a53', 'acme', 'dev', 'vtex.sender', 'k', '', X'7B7D', 1700000000002, NULL, NULL);
                INSERT INTO deliveries (event_seq, subscription_id, state, attempts, due_at) VALUES (1, 's1', 2, 1, 0);
                INSERT INTO deliveries (event_seq, subscription_id, state, attempts, due_at, dead_reason, dead_at) VALUES (2, 's1', 3, 5, 0, 'max-attempts', 1700000000100);
                INSERT INTO deliveries (event_seq, subscription_id, state, attempts, due_at) VALUES (3, 's1', 0, 0, 0);
                """);

        await using (var store = await factory.OpenAsync())
        await using (var queue = await store.Events.OpenQueueAsync("s1"))
        {
            // Only the pending delivery is in the queue; the delivered and the dead one stay as they were.
            var leased = await queue.LeaseAsync(3, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(5));
            Assert.Equal(Guid.Parse("0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a53"), Assert.Single(leased).Event.Id);
            Assert.Equal(new DeliveryCounts(0, 1, 1, 1), (await store.Events.CountAsync(["s1"]))["s1"]);
            Assert.Equal(1, await store.Events.SubscriptionRemovedAsync("s1", "subscription-removed"));
            Assert.Equal(new DeliveryCounts(0, 0, 1, 2), (await store.Events.CountAsync(["s1"]))["s1"]);
        }

        var indexes = await SqliteFile.ReadTextAsync(factory.DatabasePath, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' AND name NOT LIKE 'sqlite_%' ORDER BY name");
        Assert.Equal(["deliveries_dead", "deliveries_event", "deliveries_pending"], indexes);
    }

    /// <summary>
    /// Writes a file as an older Herald left it: its <c>deliveries</c> table, as every schema had it, and what
    /// <paramref name="sql"/> adds (that version's events table, indexes and rows).
    /// </summary>
    private static async Task WriteOlderFileAsync(string path, string sql)
    {
        await using (var old = new SqliteConnection($"Data Source={path}"))
        {
            await old.OpenAsync();
            await using var command = old.CreateCommand();
            command.CommandText = """
                CREATE TABLE deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, event_seq INTEGER NOT NULL REFERENCES events(seq), subscription_id TEXT NOT NULL,
                    state INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, due_at INTEGER NOT NULL, dead_reason TEXT, dead_at INTEGER);
                """ + sql;
            await command.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public async Task Open_OnAPathThatCannotBeAFile_SaysSoAsStoreUnavailable()
    {
        var folder = Directory.CreateTempSubdirectory("herald-sqlite-test-");
        try
        {
            var store = new SqliteEventStore(new SqliteStoreOptions { DatabasePath = folder.FullName }, TimeProvider.System);
            var error = await Assert.ThrowsAsync<StoreUnavailableException>(async () => await store.InitializeAsync());
            Assert.Contains(folder.FullName, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
