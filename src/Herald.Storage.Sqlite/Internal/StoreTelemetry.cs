using System.Diagnostics.Metrics;
using Herald.Telemetry;

namespace Herald.Storage.Sqlite.Internal;

/// <summary>
/// The SQLite store's metrics: how long its one writer takes per transaction (the writes and the fsync), how many writes
/// each transaction carries, and how long a write waits from being queued to being committed. A publish is accepted
/// only once its write has committed, so the last is the store's share of a publish's latency.
/// </summary>
/// <remarks>
/// The instruments live as long as the process and every store in it records on them (one per process in production;
/// tests open many). Instruments made per store would be disposed with it, and a metrics reader that merged two of the
/// same name would then drop both.
/// </remarks>
internal static class StoreTelemetry
{
    private static readonly Meter s_meter = new(HeraldInstrumentation.SqliteStore);

    private static readonly InstrumentAdvice<double> Seconds = new() { HistogramBucketBoundaries = HeraldInstrumentation.DurationBuckets };

    public static readonly Histogram<double> CommitDuration = s_meter.CreateHistogram(
        "herald.store.commit.duration", "s", "How long the SQLite store's writer took to run and commit one transaction: its writes and the fsync.", advice: Seconds);

    public static readonly Histogram<int> CommitWrites = s_meter.CreateHistogram(
        "herald.store.commit.writes", "{write}", "Writes (publishes, settlements, admin changes) committed together in one transaction of the SQLite store.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });

    public static readonly Histogram<double> WriteDuration = s_meter.CreateHistogram(
        "herald.store.write.duration", "s", "How long a write to the SQLite store took from being queued to being committed: its wait for the writer and its transaction.", advice: Seconds);
}
