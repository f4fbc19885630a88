using System.Diagnostics.Metrics;
using System.Globalization;
using Herald.Telemetry;

namespace Herald.LoadGen;

/// <summary>
/// What the SQLite store's writer did over the measured events, from its metrics (<see cref="HeraldInstrumentation.SqliteStore"/>):
/// how many commits, how many writes each carried, how long a commit took and how long a write waited from being
/// queued to being committed (the store's share of a publish's latency). Only a broker in this process reports them;
/// the driver prints a <c>store:</c> line when it saw any.
/// </summary>
internal sealed class StoreWriterSampler : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private readonly List<double> _commitMs = [];
    private readonly List<double> _writeMs = [];
    private long _writes;

    public StoreWriterSampler()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == HeraldInstrumentation.SqliteStore)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((instrument, seconds, _, _) =>
        {
            lock (_gate)
            {
                (instrument.Name == "herald.store.commit.duration" ? _commitMs : _writeMs).Add(seconds * 1000);
            }
        });
        _listener.SetMeasurementEventCallback<int>((_, writes, _, _) => Interlocked.Add(ref _writes, writes));
        _listener.Start();
    }

    public async Task ReportAsync(TextWriter output)
    {
        double[] commits, writes;
        lock (_gate)
        {
            commits = [.. _commitMs];
            writes = [.. _writeMs];
        }

        if (commits.Length == 0)
        {
            return;
        }

        Array.Sort(commits);
        Array.Sort(writes);
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"store: {commits.Length} commits of {Interlocked.Read(ref _writes) / (double)commits.Length:0.0} writes on average; commit ms p50 {LoadRun.Percentile(commits, 0.50):0.0}  p99 {LoadRun.Percentile(commits, 0.99):0.0}  max {commits[^1]:0.0}; write queued→committed ms p50 {LoadRun.Percentile(writes, 0.50):0.0}  p99 {LoadRun.Percentile(writes, 0.99):0.0}  max {writes[^1]:0.0}"));
    }

    public void Dispose() => _listener.Dispose();
}
