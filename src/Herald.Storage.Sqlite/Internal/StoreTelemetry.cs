using System.Diagnostics.Metrics;
using Herald.Telemetry;

namespace Herald.Storage.Sqlite.Internal;

/// <summary>
/// The SQLite store's metrics: how long its one writer takes per transaction (the writes and the fsync), how many writes
/// each transaction carries, and how long a write waits from being queued to being committed. A publish is accepted
/// only once its write has committed, so the last is the store's share of a publish's latency.
/// </summary>
internal sealed class StoreTelemetry
{
    private static readonly InstrumentAdvice<double> Seconds = new() { HistogramBucketBoundaries = HeraldInstrumentation.DurationBuckets };

    private static readonly InstrumentAdvice<int> Writes = new()
    {
        HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256],
    };

    // The store's meter when no host gives it an IMeterFactory; one per process, as instruments of one name must be.
    private static readonly Meter s_shared = new(HeraldInstrumentation.SqliteStore);

    public StoreTelemetry(IMeterFactory? meterFactory)
    {
        var meter = meterFactory?.Create(HeraldInstrumentation.SqliteStore) ?? s_shared;
        CommitDuration = meter.CreateHistogram("herald.store.commit.duration", "s", "How long the SQLite store's writer took to run and commit one transaction: its writes and the fsync.", advice: Seconds);
        CommitWrites = meter.CreateHistogram("herald.store.commit.writes", "{write}", "Writes (publishes, settlements, admin changes) committed together in one transaction of the SQLite store.", advice: Writes);
        WriteDuration = meter.CreateHistogram("herald.store.write.duration", "s", "How long a write to the SQLite store took from being queued to being committed: its wait for the writer and its transaction.", advice: Seconds);
    }

    public Histogram<double> CommitDuration { get; }

    public Histogram<int> CommitWrites { get; }

    public Histogram<double> WriteDuration { get; }
}
