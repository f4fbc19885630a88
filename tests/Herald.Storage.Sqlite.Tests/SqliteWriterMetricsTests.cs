using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Herald.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Storage.Sqlite.Tests;

/// <summary>
/// The store measures each commit of its writer and each write's wait for one, on the meter of the host's
/// <see cref="IMeterFactory"/>: concurrent publishes share commits, and every write is counted once.
/// </summary>
public sealed class SqliteWriterMetricsTests : IAsyncDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("herald-sqlite-metrics-");
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value)> _measurements = new();

    public SqliteWriterMetricsTests()
    {
        // Only this test's store: other tests' stores in this process share the meter's name, not its factory.
        var factory = _services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == HeraldInstrumentation.SqliteStore && ReferenceEquals(instrument.Meter.Scope, factory))
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
        var store = new SqliteEventStore(new SqliteStoreOptions { DatabasePath = Path.Combine(_folder.FullName, "herald.db") }, TimeProvider.System, _services.GetRequiredService<IMeterFactory>());
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

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }
}
