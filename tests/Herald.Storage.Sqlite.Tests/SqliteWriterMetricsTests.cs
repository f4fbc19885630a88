using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Herald.Telemetry;
using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite.Tests;

/// <summary>
/// The store measures each commit of its writer and each write's wait for one: concurrent publishes share commits, and
/// every write is counted once. Every store in a process records on the same instruments, so this test runs alone.
/// </summary>
[Collection(Name)]
public sealed class SqliteWriterMetricsTests : IAsyncDisposable
{
    public const string Name = "store metrics, alone";

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("herald-sqlite-metrics-");
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value)> _measurements = new();

    public SqliteWriterMetricsTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == HeraldInstrumentation.SqliteStore)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => _measurements.Enqueue((instrument.Name, value)));
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => _measurements.Enqueue((instrument.Name, value)));
        _listener.Start();
    }

    [Fact]
    public async Task EveryWriteIsCommittedOnce_AndCommitsAreMeasured()
    {
        const int Publishes = 40;
        var store = new SqliteEventStore(new SqliteStoreOptions { DatabasePath = Path.Combine(_folder.FullName, "herald.db") }, TimeProvider.System);
        await store.InitializeAsync();
        await using (store)
        {
            await Task.WhenAll(Enumerable.Range(0, Publishes).Select(async _ =>
                await store.AppendAsync(new HeraldEvent(Guid.CreateVersion7(), "acme", "dev", "vtex.sender", "k", "", "{}"u8.ToArray(), DateTimeOffset.UtcNow, null), ["acme/dev/vtex.listener/h"], null)));
            await using var queue = await store.OpenQueueAsync("acme/dev/vtex.listener/h");
            var leases = await queue.LeaseAsync(Publishes, TimeSpan.FromMinutes(1), TimeSpan.Zero);
            await queue.SettleAsync([.. leases.Select(lease => Settlement.Delivered(lease, null))]);
        }

        var measured = _measurements.ToArray();
        double[] Values(string instrument) => [.. measured.Where(m => m.Instrument == instrument).Select(m => m.Value)];
        var commits = Values("herald.store.commit.writes");
        var writes = Values("herald.store.write.duration");
        var durations = Values("herald.store.commit.duration");

        // The 40 publishes and the one settlement of all 40 deliveries: 41 writes, in as many commits or fewer.
        Assert.Equal(Publishes + 1, commits.Sum());
        Assert.Equal(Publishes + 1, writes.Length);
        Assert.Equal(commits.Length, durations.Length);
        Assert.InRange(commits.Length, 2, Publishes + 1);
        Assert.All(durations, d => Assert.True(d > 0, $"a commit measured {d} s"));
        Assert.All(writes, d => Assert.True(d > 0, $"a write measured {d} s"));
    }

    public ValueTask DisposeAsync()
    {
        _listener.Dispose();
        SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Runs <see cref="SqliteWriterMetricsTests"/> after the other tests, none beside it.</summary>
[CollectionDefinition(SqliteWriterMetricsTests.Name, DisableParallelization = true)]
public sealed class SqliteWriterMetricsCollection;
