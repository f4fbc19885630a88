using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.Channels;

namespace Herald.LoadGen;

/// <summary>Where the driver publishes: <c>PUT {BaseAddress}/{account}/{Workspace}/events/load-event</c>.</summary>
/// <param name="BearerToken">Sent as <c>Authorization: Bearer</c> when set (Herald's publisher token).</param>
/// <param name="Description">Printed in the run's first line.</param>
internal sealed record PublishTarget(Uri BaseAddress, string Workspace, string? BearerToken, string Description);

/// <summary>
/// A system under test: started with S subscribers that report every handled event to a <see cref="DeliveryRecorder"/>,
/// then published to over HTTP by <see cref="LoadDriver"/>. Disposing it stops everything it started and deletes what
/// it made.
/// </summary>
internal interface ILoadTarget : IAsyncDisposable
{
    Task<PublishTarget> StartAsync(int subscribers, DeliveryRecorder recorder, CancellationToken cancellationToken);
}

/// <summary>Thrown by a target that cannot start because of its options; the message says what to give.</summary>
internal sealed class LoadSetupException(string message) : Exception(message);

/// <summary>
/// The handlers' side of the clock: one publish→handler latency per (subscriber, event id), the first call only, from
/// the event's publish time to the handler call. Every target's ids are GUIDs: they are kept as values in a table sized
/// for the whole run up front, so that recording a delivery allocates nothing and keeps nothing alive for the garbage
/// collector to copy (a node and the id's string per delivery made each collection in the targets' process longer).
/// </summary>
internal sealed class DeliveryRecorder(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(int Subscriber, Guid EventId), double> _latencies = new(capacity);
    private volatile TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _count;
    private long _expected = long.MaxValue;

    public long Count => Interlocked.Read(ref _count);

    public void Record(int subscriber, string eventId, DateTimeOffset publishedAt)
    {
        var ms = (DateTimeOffset.UtcNow - publishedAt).TotalMilliseconds;
        var id = Guid.Parse(eventId);
        bool first;
        lock (_gate)
        {
            first = _latencies.TryAdd((subscriber, id), ms);
        }

        if (first && Interlocked.Increment(ref _count) >= Interlocked.Read(ref _expected))
        {
            _reached.TrySetResult();
        }
    }

    /// <summary>Completes once <paramref name="expected"/> distinct deliveries have been recorded.</summary>
    public Task WaitForAsync(long expected, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _expected, expected);
        if (Count >= expected)
        {
            _reached.TrySetResult();
        }

        return _reached.Task.WaitAsync(cancellationToken);
    }

    public double[] SortedLatencies()
    {
        lock (_gate)
        {
            return _latencies.Values.Order().ToArray();
        }
    }

    /// <summary>Forgets every delivery so far (after a warm-up); call only once those are all in.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _latencies.Clear();
        }

        Interlocked.Exchange(ref _count, 0);
        Interlocked.Exchange(ref _expected, long.MaxValue);
        _reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>What the driver does: N events from <paramref name="Concurrency"/> publishers, as fast as they go or at a fixed rate.</summary>
/// <param name="Rate">Events/s; null publishes as fast as the publishers go (closed loop).</param>
/// <param name="Warmup">Events published (as fast as they go) and delivered before the measured ones, not counted.</param>
internal sealed record DriveOptions(int Events, int Subscribers, int Concurrency, double? Rate, int Warmup = 0);

/// <summary>
/// The one load driver every target shares: <see cref="DriveOptions.Concurrency"/> HTTP publishers PUT
/// <c>{"n":N,"payload":"load-generator"}</c> to the target; then it waits until every accepted event has been handled
/// by every subscriber and prints the four result lines. With a rate, event n is due at n / rate seconds: a 1 ms
/// <see cref="PeriodicTimer"/> releases every due event to the publishers (a token-bucket schedule), so at most
/// <see cref="DriveOptions.Concurrency"/> are in flight and a target that falls behind shows as schedule lag.
/// </summary>
internal static class LoadDriver
{
    public static async Task<int> RunAsync(PublishTarget target, DeliveryRecorder recorder, DriveOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = target.BaseAddress };
        var rateText = options.Rate is { } r ? string.Create(CultureInfo.InvariantCulture, $" at {r:0.#} events/s") : "";
        if (options.Warmup > 0)
        {
            var warmup = await PublishAsync(http, target, options.Warmup, firstNumber: options.Events, options.Concurrency, rate: null, cancellationToken);
            await recorder.WaitForAsync((long)(options.Warmup - warmup.Failures) * options.Subscribers, cancellationToken);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"warm-up: {options.Warmup - warmup.Failures} events published and delivered in {warmup.Clock.Elapsed.TotalSeconds:0.00} s, not counted."));
            recorder.Reset();
        }

        await output.WriteLineAsync($"Publishing {options.Events} events to {target.Description}, {options.Subscribers} subscribers, {options.Concurrency} publishes in flight{rateText}.");
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var (jitMethodsBefore, jitTimeBefore, gcsBefore) = (System.Runtime.JitInfo.GetCompiledMethodCount(), System.Runtime.JitInfo.GetCompilationTime(), GC.CollectionCount(0));
        var (gen1Before, gen2Before, pausedBefore) = (GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        var workItemsBefore = ThreadPool.CompletedWorkItemCount;
        using var allocations = AllocationSampler.StartIfAsked();
        using var store = new StoreWriterSampler();
        var run = await PublishAsync(http, target, options.Events, firstNumber: 0, options.Concurrency, options.Rate, cancellationToken);
        var publishSeconds = run.Clock.Elapsed.TotalSeconds;
        var failures = run.Failures;
        var expected = (long)(options.Events - failures) * options.Subscribers;
        await recorder.WaitForAsync(expected, cancellationToken);

        var totalSeconds = run.Clock.Elapsed.TotalSeconds;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var (jitMethods, jitTime, gcs) = (System.Runtime.JitInfo.GetCompiledMethodCount() - jitMethodsBefore, System.Runtime.JitInfo.GetCompilationTime() - jitTimeBefore, GC.CollectionCount(0) - gcsBefore);
        var (gen1, gen2, paused) = (GC.CollectionCount(1) - gen1Before, GC.CollectionCount(2) - gen2Before, GC.GetTotalPauseDuration() - pausedBefore);
        var allocated = GC.GetTotalAllocatedBytes() - allocatedBefore;
        var workItems = ThreadPool.CompletedWorkItemCount - workItemsBefore;
        var endToEnd = recorder.SortedLatencies();
        var publishLatencies = run.PublishMs;
        Array.Sort(publishLatencies);
        await output.WriteLineAsync($"published: {options.Events - failures} accepted, {failures} refused, in {publishSeconds:0.00} s = {(options.Events - failures) / publishSeconds:0} events/s");
        await output.WriteLineAsync($"delivered: {endToEnd.Length} deliveries in {totalSeconds:0.00} s = {endToEnd.Length / totalSeconds:0} deliveries/s");
        await output.WriteLineAsync($"publish latency ms: p50 {LoadRun.Percentile(publishLatencies, 0.50):0.0}  p99 {LoadRun.Percentile(publishLatencies, 0.99):0.0}  max {publishLatencies[^1]:0.0}");
        await output.WriteLineAsync($"publish→handler latency ms: p50 {LoadRun.Percentile(endToEnd, 0.50):0.0}  p99 {LoadRun.Percentile(endToEnd, 0.99):0.0}  max {endToEnd[^1]:0.0}");
        if (options.Rate is { } asked)
        {
            var lagMs = run.LagMs;
            Array.Sort(lagMs);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"rate: asked {asked:0.#} events/s, published {(options.Events - failures) / publishSeconds:0} events/s; schedule lag ms: p50 {LoadRun.Percentile(lagMs, 0.50):0.0}  p99 {LoadRun.Percentile(lagMs, 0.99):0.0}  max {lagMs[^1]:0.0}"));
        }

        // This process's CPU over the measured events: the publishers, the subscribers and, for an in-process target
        // (Herald's own broker, the relay), the target itself; RabbitMQ or a broker given by --broker run elsewhere.
        await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"cpu: {cpu.TotalSeconds:0.00} s in this process = {cpu.TotalMicroseconds / Math.Max(1, options.Events - failures):0} us/event; meanwhile {jitMethods} methods compiled in {jitTime.TotalMilliseconds:0} ms, {gcs} collections ({gen1} of gen1, {gen2} of gen2) pausing it {paused.TotalMilliseconds:0} ms = {paused.TotalSeconds / totalSeconds:0.0%} of the run, {allocated / Math.Max(1, options.Events - failures) / 1024.0:0.0} KiB allocated per event, {workItems / (double)Math.Max(1, options.Events - failures):0.0} thread-pool work items per event"));
        await store.ReportAsync(output);
        if (allocations is not null)
        {
            await allocations.StopAndReportAsync(output);
        }

        return failures == 0 ? 0 : 1;
    }

    /// <summary>
    /// Publishes events numbered <paramref name="firstNumber"/> onwards from <paramref name="concurrency"/> publishers;
    /// returns each one's publish latency (and, with a rate, how late it was sent), the refusals and the phase's clock,
    /// still running.
    /// </summary>
    private static async Task<PublishPhase> PublishAsync(HttpClient http, PublishTarget target, int events, int firstNumber, int concurrency, double? rate, CancellationToken cancellationToken)
    {
        var path = $"/{LoadRun.Account}/{target.Workspace}/events/load-event";
        var phase = new PublishPhase(new double[events], new double[events], Stopwatch.StartNew());
        var tickets = Channel.CreateBounded<int>(new BoundedChannelOptions(Math.Max(1, events))
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = true,
        });
        var schedule = rate is { } r ? PaceAsync(tickets.Writer, events, r, phase.Clock, cancellationToken) : ReleaseAllAsync(tickets.Writer, events);
        var publishers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            await foreach (var i in tickets.Reader.ReadAllAsync(cancellationToken))
            {
                if (rate is { } r)
                {
                    phase.LagMs[i] = phase.Clock.Elapsed.TotalMilliseconds - (i * 1000.0 / r);
                }

                using var request = new HttpRequestMessage(HttpMethod.Put, path)
                {
                    Content = new StringContent($$"""{"n":{{firstNumber + i}},"payload":"load-generator"}""", Encoding.UTF8, "application/json"),
                };
                if (target.BearerToken is { } token)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                }

                var started = Stopwatch.GetTimestamp();
                using var response = await http.SendAsync(request, cancellationToken);
                phase.PublishMs[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if ((int)response.StatusCode != 202)
                {
                    Interlocked.Increment(ref phase.Failures);
                }
            }
        }).ToList();
        await schedule;
        await Task.WhenAll(publishers);
        return phase;
    }

    private static Task ReleaseAllAsync(ChannelWriter<int> writer, int events)
    {
        for (var n = 0; n < events; n++)
        {
            writer.TryWrite(n);
        }

        writer.Complete();
        return Task.CompletedTask;
    }

    /// <summary>Event n is due at n / rate seconds; each tick releases every event due by then.</summary>
    private static async Task PaceAsync(ChannelWriter<int> writer, int events, double rate, Stopwatch clock, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(1));
        var next = 0;
        try
        {
            while (true)
            {
                var due = (int)Math.Min(events, Math.Floor(clock.Elapsed.TotalSeconds * rate) + 1);
                while (next < due)
                {
                    writer.TryWrite(next++);
                }

                if (next >= events)
                {
                    return;
                }

                await timer.WaitForNextTickAsync(cancellationToken);
            }
        }
        finally
        {
            writer.TryComplete();
        }
    }

    private sealed class PublishPhase(double[] publishMs, double[] lagMs, Stopwatch clock)
    {
#pragma warning disable CA1051 // counted with Interlocked
        public int Failures;
#pragma warning restore CA1051

        public double[] PublishMs { get; } = publishMs;

        public double[] LagMs { get; } = lagMs;

        public Stopwatch Clock { get; } = clock;
    }
}
