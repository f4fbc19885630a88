using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Herald.Broker.Admin;
using Herald.Sdk;
using Microsoft.AspNetCore.Builder;

namespace Herald.LoadGen;

/// <summary>What a soak run does; see <c>Program.cs</c> for each option's meaning and default.</summary>
internal sealed record SoakOptions(
    double Rate,
    int DurationSeconds,
    int Subscribers,
    double FailRate,
    int Seed,
    int Concurrency,
    int DeliveryConcurrency,
    int Retries,
    int InitialBackoffMs,
    int MaxBackoffMs,
    int DrainSeconds,
    int WarmupSeconds,
    int SampleSeconds,
    string? HeraldDll,
    string? Broker,
    string? AdminToken,
    string? DataDirectory,
    int? BrokerPid);

/// <summary>
/// The soak run: publishes at a fixed rate for a fixed time to a broker in its own process, each publish with an
/// <c>Idempotency-Key</c> and retried until accepted; M subscriber apps (Herald's SDK, in this process) fail a
/// deterministic fraction of handler calls with 500; then waits until every subscription has nothing pending or in
/// flight and counts events lost (accepted but never handled by some subscriber) and duplicates, with the broker's
/// resident memory sampled along the way. Bounded: it stops after duration + drain deadline, and stops every process
/// it started.
/// </summary>
internal static class SoakRun
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<int> RunAsync(SoakOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        if (options.Rate <= 0 || options.DurationSeconds <= 0 || options.Subscribers <= 0 || options.FailRate is < 0 or >= 1)
        {
            await output.WriteLineAsync("--rate, --duration and --subscribers must be positive, and --fail-rate from 0 to below 1.");
            return 1;
        }

        // Hard bound on the whole run: start-up, publishing, drain, plus a minute for the rest.
        using var hardStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        hardStop.CancelAfter(TimeSpan.FromSeconds(options.DurationSeconds + options.DrainSeconds + 120));
        var ct = hardStop.Token;

        OwnBrokerProcess? ownBroker = null;
        Uri brokerUrl;
        string adminToken;
        int? brokerPid;
        if (options.Broker is null)
        {
            var dll = options.HeraldDll ?? DefaultCliDll();
            await output.WriteLineAsync($"Starting the broker: dotnet {dll} up --port 0 --data <temp>");
            ownBroker = await OwnBrokerProcess.StartAsync(dll, ct);
            brokerUrl = ownBroker.Url;
            adminToken = (await File.ReadAllTextAsync(Path.Combine(ownBroker.DataDirectory, "admin.token"), ct)).Trim();
            brokerPid = ownBroker.Id;
        }
        else
        {
            brokerUrl = new Uri(options.Broker);
            var token = options.AdminToken ?? (options.DataDirectory is { } dir ? (await File.ReadAllTextAsync(Path.Combine(dir, "admin.token"), ct)).Trim() : null);
            if (token is null)
            {
                await output.WriteLineAsync("With --broker, give --admin-token or --data (the broker's data folder).");
                return 1;
            }

            adminToken = token;
            brokerPid = options.BrokerPid;
        }

        var workspace = "soak-" + Guid.NewGuid().ToString("N")[..8];
        var total = (int)Math.Ceiling(options.Rate * options.DurationSeconds);
        var state = new SoakState(total, options.Subscribers);
        var apps = new List<WebApplication>();
        var tempApps = Directory.CreateTempSubdirectory("herald-soak-apps-").FullName;
        var rss = new List<(double At, string Phase, MemorySample Memory)>();
        using var admin = new HttpClient { BaseAddress = brokerUrl, Timeout = TimeSpan.FromSeconds(30) };
        using var publishHttp = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = brokerUrl,
            Timeout = TimeSpan.FromSeconds(10),
        };
        var exitCode = 0;
        try
        {
            Sample(rss, brokerPid, 0, "idle (before linking)");
            var delivery = new
            {
                concurrency = options.DeliveryConcurrency,
                retries = options.Retries,
                initialBackoffDelay = options.InitialBackoffMs,
                maxBackoffDelay = options.MaxBackoffMs,
            };
            for (var i = 0; i < options.Subscribers; i++)
            {
                var subscriber = i;
                apps.Add(await LoadRun.StartSubscriberAsync(
                    admin, adminToken, brokerUrl.ToString(), workspace, $"subscriber{i}", delivery, context => Handle(state, options, subscriber, context), tempApps, ct));
            }

            var publisherToken = (await LoadRun.LinkAsync(admin, adminToken, workspace, "load.publisher", "{}", "http://127.0.0.1:9", ct)).Token;
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Soak: {total} events at {options.Rate:0.#}/s for {options.DurationSeconds} s to {brokerUrl} ({LoadRun.Account}/{workspace}), broker pid {brokerPid?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}; {options.Subscribers} subscribers failing {options.FailRate:P0} of calls (seed {options.Seed}); delivery {JsonSerializer.Serialize(delivery)}; drain deadline {options.DrainSeconds} s."));

            var clock = Stopwatch.StartNew();
            using var sampling = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var phase = "publishing";
            var sampler = Task.Run(async () =>
            {
                var next = (double)options.WarmupSeconds;
                var (lastAt, lastHandled) = (0.0, 0L);
                while (!sampling.IsCancellationRequested)
                {
                    var wait = TimeSpan.FromSeconds(next) - clock.Elapsed;
                    if (wait > TimeSpan.Zero)
                    {
                        try
                        {
                            await Task.Delay(wait, sampling.Token);
                        }
                        catch (OperationCanceledException)
                        {
                            return;
                        }
                    }

                    var label = next == options.WarmupSeconds ? phase + " (start, after warm-up)" : phase;
                    var now = clock.Elapsed.TotalSeconds;
                    var sample = Sample(rss, brokerPid, now, label);
                    var handled = state.MinHandled();
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"[{now,6:0}s] {label}: accepted {state.Accepted}, handled (slowest subscriber) {handled} (+{(handled - lastHandled) / (now - lastAt):0}/s), backlog {state.Accepted - handled}, handler calls {state.Calls.Sum()}, publish retries {state.PublishRetries}, broker RSS {Mib(sample)}"));
                    (lastAt, lastHandled) = (now, handled);
                    next += options.SampleSeconds;
                }
            }, CancellationToken.None);

            // Publishing: event n is due at n / rate seconds; at most --concurrency publishes in flight.
            var slots = new SemaphoreSlim(options.Concurrency);
            using var publishStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            publishStop.CancelAfter(TimeSpan.FromSeconds(options.DurationSeconds + options.DrainSeconds));
            var maxLagMs = 0.0;
            for (var n = 0; n < total; n++)
            {
                var due = TimeSpan.FromSeconds(n / options.Rate);
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(wait, ct);
                }

                await slots.WaitAsync(ct);
                maxLagMs = Math.Max(maxLagMs, (clock.Elapsed - due).TotalMilliseconds);
                var number = n;
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await PublishAsync(publishHttp, publisherToken, workspace, state, number, publishStop.Token);
                    }
                    finally
                    {
                        slots.Release();
                    }
                }, CancellationToken.None);
            }

            for (var i = 0; i < options.Concurrency; i++)
            {
                await slots.WaitAsync(ct);
            }

            var publishSeconds = clock.Elapsed.TotalSeconds;
            phase = "draining";
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Publishing done in {publishSeconds:0.0} s: {state.Accepted} accepted ({state.Accepted / publishSeconds:0.0}/s), max schedule lag {maxLagMs:0} ms. Draining..."));
            Sample(rss, brokerPid, publishSeconds, "end of publishing");

            // Drain: until every subscription has nothing pending or in flight (and every accepted event is handled
            // everywhere), or the deadline.
            var drainDeadline = clock.Elapsed + TimeSpan.FromSeconds(options.DrainSeconds);
            IReadOnlyList<SubscriptionInfo> subscriptions = [];
            var drained = false;
            var zeroPolls = 0;
            while (clock.Elapsed < drainDeadline)
            {
                subscriptions = await SubscriptionsAsync(admin, adminToken, workspace, ct);
                var open = subscriptions.Sum(s => s.Pending + s.InFlight);
                zeroPolls = open == 0 ? zeroPolls + 1 : 0;
                if (open == 0 && (state.AllHandled() || zeroPolls >= 3))
                {
                    drained = true;
                    break;
                }

                await Task.Delay(500, ct);
            }

            var drainSeconds = clock.Elapsed.TotalSeconds - publishSeconds;
            await sampling.CancelAsync();
            await sampler;
            var end = Sample(rss, brokerPid, clock.Elapsed.TotalSeconds, drained ? "end (drained)" : "end (drain deadline hit)");
            subscriptions = await SubscriptionsAsync(admin, adminToken, workspace, ct);

            var report = state.Report();
            var publishLatencies = state.PublishLatencies();
            var firstAttempt = report.EndToEnd.Where(x => x.Attempt == 1).Select(x => x.Ms).Order().ToArray();
            var all = report.EndToEnd.Select(x => x.Ms).Order().ToArray();
            var totalSeconds = clock.Elapsed.TotalSeconds;
            var w = new StringBuilder();
            w.AppendLine("=== soak result ===");
            w.AppendLine(Inv($"duration: publishing {publishSeconds:0.0} s, drain {drainSeconds:0.0} s ({(drained ? "drained" : "NOT drained: deadline hit")}), target rate {options.Rate:0.#}/s, fail rate {options.FailRate:0.###}, seed {options.Seed}"));
            w.AppendLine(Inv($"published: {total} attempted, {state.Accepted} accepted (202), {state.Refused} refused for good, {state.PublishRetries} publish retries ({state.RetryReasons()})"));
            for (var s = 0; s < options.Subscribers; s++)
            {
                var sub = subscriptions.FirstOrDefault(x => x.Id.Contains($"subscriber{s}", StringComparison.Ordinal));
                w.AppendLine(Inv($"subscriber{s}: handled {report.Handled[s]} distinct events, {state.Calls[s]} handler calls, {state.Injected[s]} failures injected, {report.Duplicates[s]} duplicates, {report.Lost[s]} lost; broker says delivered {sub?.Delivered}, dead {sub?.Dead}, pending {sub?.Pending}, in flight {sub?.InFlight}"));
            }

            var dead = subscriptions.Sum(x => x.Dead);
            w.AppendLine(drained
                ? Inv($"LOST: {report.Lost.Sum()} (accepted events never handled successfully by some subscriber; must be 0)")
                : Inv($"LOST or still undelivered at the drain deadline: {report.Lost.Sum()} (the broker still had {subscriptions.Sum(x => x.Pending)} pending and {subscriptions.Sum(x => x.InFlight)} in flight; run with a longer --drain or a lower --rate)"));
            w.AppendLine(Inv($"duplicates: {report.Duplicates.Sum()} (successful handler calls beyond the first per subscriber and event)"));
            w.AppendLine(Inv($"dead letters: {dead}"));
            w.AppendLine(Inv($"failed handler calls injected: {state.Injected.Sum()} of {state.Calls.Sum()} calls ({(double)state.Injected.Sum() / Math.Max(1, state.Calls.Sum()):P2})"));
            w.AppendLine(Inv($"event ids not matching an accepted publish (idempotency broken): {report.ForeignIds}; handled events never accepted: {report.HandledNotAccepted}"));
            w.AppendLine(Inv($"throughput: {state.Accepted / publishSeconds:0.0} accepted/s; {all.Length / totalSeconds:0.0} deliveries/s over the whole run"));
            w.AppendLine(Inv($"publish latency ms (202, retries included): p50 {LoadRun.Percentile(publishLatencies, 0.50):0.0}  p99 {LoadRun.Percentile(publishLatencies, 0.99):0.0}  max {(publishLatencies.Length > 0 ? publishLatencies[^1] : double.NaN):0.0}"));
            w.AppendLine(Inv($"publish→handler latency ms (first success, all): p50 {LoadRun.Percentile(all, 0.50):0.0}  p99 {LoadRun.Percentile(all, 0.99):0.0}  max {(all.Length > 0 ? all[^1] : double.NaN):0.0}"));
            w.AppendLine(Inv($"publish→handler latency ms (handled at attempt 1): p50 {LoadRun.Percentile(firstAttempt, 0.50):0.0}  p99 {LoadRun.Percentile(firstAttempt, 0.99):0.0}  ({firstAttempt.Length} of {all.Length})"));
            var start = rss.FirstOrDefault(r => r.Phase.Contains("after warm-up", StringComparison.Ordinal));
            w.AppendLine(Inv($"broker RSS MiB: idle {(rss.Count > 0 ? rss[0].Memory.Rss : double.NaN):0.0}, start (after {options.WarmupSeconds} s warm-up) {start.Memory.Rss:0.0}, end {end?.Rss:0.0}, max sampled {(rss.Count > 0 ? rss.Max(r => r.Memory.Rss) : double.NaN):0.0}, peak (VmHWM) {end?.Peak:0.0}"));
            w.AppendLine("broker RSS samples (s, phase, MiB: all = anonymous + files): " + string.Join("; ", rss.Select(r => Inv($"{r.At:0} {r.Phase} {r.Memory.Rss:0.0} = {r.Memory.Anon:0.0} + {r.Memory.File:0.0}"))));
            await output.WriteAsync(w.ToString());
            exitCode = report.Lost.Sum() > 0 || !drained ? 1 : 0;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await output.WriteLineAsync($"Stopped at the hard deadline with {state.Accepted} accepted and {state.MinHandled()} handled by the slowest subscriber.");
            exitCode = 2;
        }
        finally
        {
            foreach (var app in apps)
            {
                await app.StopAsync(CancellationToken.None);
                await app.DisposeAsync();
            }

            Directory.Delete(tempApps, recursive: true);
            if (ownBroker is not null)
            {
                var code = await ownBroker.StopAsync(TimeSpan.FromSeconds(60));
                await output.WriteLineAsync($"Broker stopped with SIGTERM: exit code {code?.ToString(CultureInfo.InvariantCulture) ?? "none (did not exit in 60 s; killed)"}; it printed {ownBroker.LineCount} lines.");
                var notable = ownBroker.Lines.Where(l => !l.StartsWith("Herald broker listening", StringComparison.Ordinal) && !l.StartsWith("Data in ", StringComparison.Ordinal) && !l.StartsWith("Working in ", StringComparison.Ordinal)).ToList();
                foreach (var line in notable.TakeLast(40))
                {
                    await output.WriteLineAsync("  broker: " + line);
                }

                await ownBroker.DisposeAsync();
            }
        }

        return exitCode;
    }

    private static Task Handle(SoakState state, SoakOptions options, int subscriber, EventContext context)
    {
        var n = context.Body.GetProperty("n").GetInt32();
        Interlocked.Increment(ref state.Calls[subscriber]);
        if (ShouldFail(options.Seed, subscriber, n, context.Attempt, options.FailRate))
        {
            Interlocked.Increment(ref state.Injected[subscriber]);
            throw new HeraldHttpException(500, "Injected failure (soak run); the broker retries it.");
        }

        state.Handled(subscriber, n, context.EventId, context.Attempt, (DateTimeOffset.UtcNow - context.Time!.Value).TotalMilliseconds);
        return Task.CompletedTask;
    }

    /// <summary>Deterministic: the same (seed, subscriber, event number, attempt) always gives the same answer.</summary>
    internal static bool ShouldFail(int seed, int subscriber, int n, int attempt, double failRate)
    {
        var x = ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL) ^ ((ulong)(uint)subscriber << 48) ^ ((ulong)(uint)n << 16) ^ (uint)attempt;
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        return (x >> 11) * (1.0 / (1UL << 53)) < failRate;
    }

    private static async Task PublishAsync(HttpClient http, string token, string workspace, SoakState state, int n, CancellationToken ct)
    {
        var key = $"soak-{workspace}-{n}";
        var started = Stopwatch.GetTimestamp();
        for (var attempt = 0; ; attempt++)
        {
            if (attempt > 0)
            {
                Interlocked.Increment(ref state.PublishRetries);
            }

            TimeSpan? retryAfter = null;
            string reason;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Put, $"/{LoadRun.Account}/{workspace}/events/load-event")
                {
                    Content = new StringContent($$"""{"n":{{n}},"payload":"soak"}""", Encoding.UTF8, "application/json"),
                };
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                request.Headers.Add("Idempotency-Key", key);
                using var response = await http.SendAsync(request, ct);
                var status = (int)response.StatusCode;
                if (status == 202)
                {
                    var body = await response.Content.ReadFromJsonAsync<PublishResponse>(Json, ct);
                    state.Accept(n, body!.Id, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    return;
                }

                if (status != 429 && status != 408 && status < 500)
                {
                    Interlocked.Increment(ref state.Refused);
                    state.RetryReason($"refused {status}: {await response.Content.ReadAsStringAsync(ct)}");
                    return;
                }

                retryAfter = response.Headers.RetryAfter?.Delta;
                reason = status.ToString(CultureInfo.InvariantCulture);
            }
            catch (HttpRequestException e)
            {
                reason = e.HttpRequestError.ToString();
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                reason = "timeout";
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref state.Refused);
                state.RetryReason("gave up at the deadline");
                return;
            }

            state.RetryReason(reason);
            var backoff = retryAfter ?? TimeSpan.FromMilliseconds(Math.Min(2000, 50 * Math.Pow(2, Math.Min(attempt, 10))));
            try
            {
                await Task.Delay(backoff, ct);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref state.Refused);
                state.RetryReason("gave up at the deadline");
                return;
            }
        }
    }

    private static async Task<IReadOnlyList<SubscriptionInfo>> SubscriptionsAsync(HttpClient admin, string adminToken, string workspace, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/_herald/v1/{LoadRun.Account}/{workspace}/apps");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        using var response = await admin.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        var apps = await response.Content.ReadFromJsonAsync<AppsResponse>(Json, ct);
        return apps!.Apps.SelectMany(a => a.Subscriptions).ToList();
    }

    private static MemorySample? Sample(List<(double At, string Phase, MemorySample Memory)> samples, int? pid, double at, string phase)
    {
        var sample = pid is { } p ? ProcessMemory.Read(p) : null;
        if (sample is { } s)
        {
            lock (samples)
            {
                samples.Add((at, phase, s));
            }
        }

        return sample;
    }

    private static string Mib(MemorySample? sample) =>
        sample is { } s ? Inv($"{s.Rss:0.0} MiB (anonymous {s.Anon:0.0}, files {s.File:0.0})") : "unknown (give --broker-pid)";

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The Release build of the CLI next to this repository's bench folder.</summary>
    private static string DefaultCliDll()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Herald.slnx")))
        {
            dir = dir.Parent;
        }

        var root = dir?.FullName ?? Directory.GetCurrentDirectory();
        return Path.Combine(root, "src", "Herald.Cli", "bin", "Release", "net10.0", "Herald.Cli.dll");
    }

    /// <summary>What the publishers and handlers saw, indexed by event number.</summary>
    private sealed class SoakState(int total, int subscribers)
    {
        private readonly string?[] _acceptedIds = new string?[total];
        private readonly double[] _publishMs = new double[total];
        private readonly int[][] _handled = Enumerable.Range(0, subscribers).Select(_ => new int[total]).ToArray();
        private readonly float[][] _latencyMs = Enumerable.Range(0, subscribers).Select(_ => new float[total]).ToArray();
        private readonly byte[][] _attempt = Enumerable.Range(0, subscribers).Select(_ => new byte[total]).ToArray();
        private readonly long[] _handledDistinct = new long[subscribers];
        private readonly ConcurrentDictionary<string, int> _idToNumber = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, int> _retryReasons = new(StringComparer.Ordinal);
        private long _accepted;

#pragma warning disable CA1051 // counters updated with Interlocked
        public readonly long[] Calls = new long[subscribers];
        public readonly long[] Injected = new long[subscribers];
        public long PublishRetries;
        public long Refused;
#pragma warning restore CA1051

        public long Accepted => Interlocked.Read(ref _accepted);

        public void Accept(int n, string id, double ms)
        {
            _acceptedIds[n] = id;
            _publishMs[n] = ms;
            Interlocked.Increment(ref _accepted);
        }

        public void Handled(int subscriber, int n, string eventId, int attempt, double ms)
        {
            _idToNumber.TryAdd(eventId, n);
            if (Interlocked.Increment(ref _handled[subscriber][n]) == 1)
            {
                _latencyMs[subscriber][n] = (float)ms;
                _attempt[subscriber][n] = (byte)Math.Min(attempt, 255);
                Interlocked.Increment(ref _handledDistinct[subscriber]);
            }
        }

        public void RetryReason(string reason) => _retryReasons.AddOrUpdate(reason, 1, (_, c) => c + 1);

        public string RetryReasons() => _retryReasons.IsEmpty ? "none" : string.Join(", ", _retryReasons.OrderByDescending(r => r.Value).Select(r => $"{r.Key}: {r.Value}"));

        public long MinHandled() => _handledDistinct.Min(h => h);

        public bool AllHandled()
        {
            var accepted = Accepted;
            return _handledDistinct.All(h => h >= accepted);
        }

        public double[] PublishLatencies()
        {
            var list = new List<double>(_publishMs.Length);
            for (var n = 0; n < _publishMs.Length; n++)
            {
                if (_acceptedIds[n] is not null)
                {
                    list.Add(_publishMs[n]);
                }
            }

            var sorted = list.ToArray();
            Array.Sort(sorted);
            return sorted;
        }

        public SoakReport Report()
        {
            var lost = new long[subscribers];
            var duplicates = new long[subscribers];
            var handled = new long[subscribers];
            var handledNotAccepted = 0L;
            var endToEnd = new List<(double Ms, int Attempt)>();
            for (var s = 0; s < subscribers; s++)
            {
                for (var n = 0; n < total; n++)
                {
                    var count = _handled[s][n];
                    var accepted = _acceptedIds[n] is not null;
                    if (count > 0)
                    {
                        handled[s]++;
                        duplicates[s] += count - 1;
                        endToEnd.Add((_latencyMs[s][n], _attempt[s][n]));
                        if (!accepted)
                        {
                            handledNotAccepted++;
                        }
                    }
                    else if (accepted)
                    {
                        lost[s]++;
                    }
                }
            }

            var foreignIds = _idToNumber.LongCount(kv => !string.Equals(_acceptedIds[kv.Value], kv.Key, StringComparison.Ordinal));
            return new SoakReport(handled, lost, duplicates, endToEnd, foreignIds, handledNotAccepted);
        }
    }

    private sealed record SoakReport(long[] Handled, long[] Lost, long[] Duplicates, List<(double Ms, int Attempt)> EndToEnd, long ForeignIds, long HandledNotAccepted);
}
