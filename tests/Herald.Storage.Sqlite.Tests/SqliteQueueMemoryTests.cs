using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite.Tests;

/// <summary>
/// The SQLite queue keeps deliveries in memory over the file and reads the file when memory may not hold everything:
/// what is appended while such a read is under way must still be delivered.
/// </summary>
public sealed class SqliteQueueMemoryTests
{
    [Fact]
    public async Task AppendsWhileTheQueueReadsTheFile_AreAllLeased_NoneLeftInTheFile()
    {
        const int Publishers = 4;
        const int EventsEach = 1000;
        var folder = Directory.CreateTempSubdirectory("herald-sqlite-test-");
        try
        {
            // A queue that holds 4 deliveries in memory overflows at once, so it reads the file again and again while
            // appends go on: every append made during a read must reach the queue, from memory or from the file.
            var store = new SqliteEventStore(new SqliteStoreOptions { DatabasePath = Path.Combine(folder.FullName, "herald.db"), QueueMemoryCapacity = 4 }, TimeProvider.System);
            await store.InitializeAsync();
            await using (store)
            {
                await using var queue = await store.OpenQueueAsync("s1");
                var leased = new HashSet<Guid>();
                var deadline = DateTime.UtcNow.AddSeconds(60);
                var consumer = Task.Run(async () =>
                {
                    while (leased.Count < Publishers * EventsEach && DateTime.UtcNow < deadline)
                    {
                        var leases = await queue.LeaseAsync(8, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));
                        foreach (var lease in leases)
                        {
                            Assert.True(leased.Add(lease.Event.Id), $"event {lease.Event.Id} was leased twice");
                        }

                        if (leases.Count > 0)
                        {
                            await queue.SettleAsync([.. leases.Select(l => Settlement.Delivered(l, null))]);
                        }
                    }

                    return leased.Count;
                });

                await Task.WhenAll(Enumerable.Range(0, Publishers).Select(p => Task.Run(async () =>
                {
                    for (var i = 0; i < EventsEach; i++)
                    {
                        var evt = new HeraldEvent(Guid.CreateVersion7(), "acme", "dev", "vtex.sender", "k", "", "{}"u8.ToArray(), DateTimeOffset.UtcNow, null);
                        await store.AppendAsync(evt, ["s1"], null);
                    }
                })));

                // Every delivery is leased within the deadline; a delivery the queue lost track of stays in the file.
                Assert.Equal(Publishers * EventsEach, await consumer);
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
        }
    }
}
