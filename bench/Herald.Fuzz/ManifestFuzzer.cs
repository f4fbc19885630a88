using System.Diagnostics;
using Herald.Fuzz.Generators;
using Herald.Fuzz.Json;
using Herald.Manifests;

namespace Herald.Fuzz;

/// <summary>Which parser a manifest fuzz run targets.</summary>
public enum ManifestTarget
{
    /// <summary><see cref="ServiceManifest.Parse"/> (<c>dotnet/service.json</c>).</summary>
    Service,

    /// <summary><see cref="AppManifest.Parse"/> (<c>manifest.json</c>).</summary>
    App,
}

/// <param name="Inputs">How many inputs to try.</param>
/// <param name="Bound">Stop after this long even if not every input was tried.</param>
/// <param name="Seed">The run's seed; input i is generated from (seed, i) alone.</param>
/// <param name="HangAfter">An input still running after this long is a hang: the run stops and reports it.</param>
/// <param name="Strict">Count inputs that hit a <see cref="KnownIssues">known issue</see> as failures too.</param>
public sealed record ManifestFuzzOptions(ManifestTarget Target, long Inputs, TimeSpan Bound, int Seed, TimeSpan HangAfter, bool Strict = false);

/// <summary>
/// Fuzzes the manifest parsers. The rule: <c>Parse</c> returns a manifest whose values are in their documented
/// ranges, or throws <see cref="ManifestException"/> whose errors each name a path and a rule. Any other exception
/// is a crash; an input that runs longer than the hang limit is a hang.
/// </summary>
public static class ManifestFuzzer
{
    /// <summary>A per-input seed from the run's seed and the input's index (SplitMix64), so any input can be regenerated alone.</summary>
    public static int InputSeed(int seed, long index)
    {
        unchecked
        {
            var z = ((ulong)(uint)seed << 32) + (ulong)index + 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return (int)(z ^ (z >> 31));
        }
    }

    /// <summary>Input <paramref name="index"/> of a run with <paramref name="seed"/>.</summary>
    public static string Input(ManifestTarget target, int seed, long index)
    {
        var random = new Random(InputSeed(seed, index));
        JNode valid = target == ManifestTarget.Service ? ManifestGenerator.Service(random) : ManifestGenerator.App(random);
        return JsonMutator.Derive(random, valid);
    }

    /// <summary>A valid document (no mutation) for <paramref name="index"/>: what the mutators start from.</summary>
    public static string ValidInput(ManifestTarget target, int seed, long index)
    {
        var random = new Random(InputSeed(seed, index));
        JNode valid = target == ManifestTarget.Service ? ManifestGenerator.Service(random) : ManifestGenerator.App(random);
        return JsonText.Write(valid, JsonStyle.Random(random));
    }

    /// <summary>
    /// Parses <paramref name="input"/> and classifies what happened: <c>accepted</c>, <c>rejected: &lt;rule&gt;</c>,
    /// or a failure (returned in <paramref name="failure"/>, with a kind such as <c>crash: ...</c>).
    /// </summary>
    public static string Check(ManifestTarget target, string input, out (string Kind, string Detail)? failure)
    {
        failure = null;
        try
        {
            if (target == ManifestTarget.Service)
            {
                var service = ServiceManifest.Parse(input, "dotnet/service.json");
                failure = ServiceInvariant(service) is { } broken ? ("invariant", broken) : null;
            }
            else
            {
                var app = AppManifest.Parse(input);
                failure = AppInvariant(app) is { } broken ? ("invariant", broken) : null;
            }

            return "accepted";
        }
        catch (ManifestException ex)
        {
            if (ex.Errors.Count == 0 || ex.Errors.Any(e => !e.Path.StartsWith('$') || string.IsNullOrWhiteSpace(e.Rule)) || string.IsNullOrWhiteSpace(ex.Message))
            {
                failure = ("bad-error", ex.Message);
            }

            return "rejected: " + Category(ex.Errors.Count > 0 ? ex.Errors[0].Rule : "");
        }
        catch (Exception ex)
        {
            var kind = $"crash: {ex.GetType().Name} at {Site(ex)}";
            failure = (kind, ex.Message);
            return "CRASH " + ex.GetType().Name + " at " + Site(ex);
        }
    }

    /// <summary>Runs a fuzz campaign on a thread of its own (deep inputs need a big stack), watching for hangs.</summary>
    public static FuzzReport Run(ManifestFuzzOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var report = new FuzzReport(options.Target == ManifestTarget.Service ? "ServiceManifest.Parse" : "AppManifest.Parse", options.Seed);
        var clock = Stopwatch.StartNew();
        long current = -1;
        long currentStarted = 0;
        string? currentInput = null;
        var minimized = new HashSet<string>(StringComparer.Ordinal);
        var worker = new Thread(
            () =>
            {
                for (long i = 0; i < options.Inputs && !cancellationToken.IsCancellationRequested; i++)
                {
                    if (clock.Elapsed > options.Bound)
                    {
                        report.StoppedByTime = true;
                        break;
                    }

                    Volatile.Write(ref currentStarted, clock.ElapsedTicks);
                    Volatile.Write(ref current, i);
                    var input = Input(options.Target, options.Seed, i);
                    Volatile.Write(ref currentInput, input);
                    var started = Stopwatch.GetTimestamp();
                    var outcome = Check(options.Target, input, out var failure);
                    report.Record(i, outcome, Stopwatch.GetElapsedTime(started));
                    Volatile.Write(ref current, -1);
                    if (failure is { } f)
                    {
                        // Shrink the first input of each kind of crash; keep the rest as they were.
                        var minimal = f.Kind.StartsWith("crash", StringComparison.Ordinal) && minimized.Add(f.Kind) ? Minimize(options.Target, input, f.Kind) : input;
                        var found = new FuzzFailure(i, f.Kind, f.Detail, FuzzReport.Escape(minimal));
                        if (KnownIssues.OfManifestFailure(f.Kind, f.Detail) is { } issue)
                        {
                            report.Known(issue, found, options.Strict);
                        }
                        else
                        {
                            report.Fail(found);
                        }
                    }
                }

                Volatile.Write(ref current, -1);
            },
            256 * 1024 * 1024)
        { IsBackground = true, Name = "manifest-fuzz" };
        worker.Start();
        while (!worker.Join(100))
        {
            var index = Volatile.Read(ref current);
            var runningFor = Stopwatch.GetElapsedTime(0, clock.ElapsedTicks - Volatile.Read(ref currentStarted));
            if (index >= 0 && runningFor > options.HangAfter && Volatile.Read(ref current) == index)
            {
                report.Hung = true;
                report.Fail(new FuzzFailure(index, "hang", $"still running after {runningFor.TotalSeconds:F0} s", FuzzReport.Escape(Volatile.Read(ref currentInput) ?? "")));
                break;
            }
        }

        report.Elapsed = clock.Elapsed;
        return report;
    }

    /// <summary>
    /// Shrinks a crashing input: removes ever smaller chunks while the parser still fails with the same kind
    /// (a bounded delta-debugging pass).
    /// </summary>
    public static string Minimize(ManifestTarget target, string input, string kind)
    {
        var best = input;
        var budget = 3000;
        for (var chunk = Math.Max(1, best.Length / 2); chunk >= 1 && budget > 0; chunk /= 2)
        {
            var progress = true;
            while (progress && budget > 0)
            {
                progress = false;
                for (var start = 0; start + chunk <= best.Length && budget > 0; start += chunk)
                {
                    budget--;
                    var candidate = best.Remove(start, chunk);
                    Check(target, candidate, out var failure);
                    if (failure?.Kind == kind)
                    {
                        best = candidate;
                        progress = true;
                        start -= chunk;
                    }
                }
            }
        }

        return best;
    }

    /// <summary>The innermost Herald method on the exception's stack: where the crash escaped Herald's code.</summary>
    private static string Site(Exception ex)
    {
        var frame = (ex.StackTrace ?? "").Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("at Herald.", StringComparison.Ordinal));
        if (frame is null)
        {
            return "?";
        }

        var paren = frame.IndexOf('(', StringComparison.Ordinal);
        var line = frame.LastIndexOf(":line ", StringComparison.Ordinal);
        return frame[3..(paren > 0 ? paren : frame.Length)] + (line > 0 ? " line " + frame[(line + 6)..] : "");
    }

    private static string Category(string rule)
    {
        var cut = rule.IndexOfAny([':', '(', ';']);
        var head = cut > 0 ? rule[..cut] : rule;
        var words = head.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return string.Join(' ', words.Take(5));
    }

    private static string? ServiceInvariant(ServiceManifest s)
    {
        if (s.Memory is < 1 or > 1024 || s.Ttl is < 10 or > 60 || s.Timeout is < 1 or > 60 || s.Workers is < 1 or > 4)
        {
            return $"accepted out-of-range runtime values: memory {s.Memory}, ttl {s.Ttl}, timeout {s.Timeout}, workers {s.Workers}";
        }

        if (s.MinReplicas is < 1 or > 80 || s.MaxReplicas is < 1 or > 80 || s.MaxReplicas < s.MinReplicas)
        {
            return $"accepted replicas min {s.MinReplicas}, max {s.MaxReplicas}";
        }

        foreach (var (id, e) in s.Events)
        {
            if (!Names.IsHandlerId(id) || (e.Keys.Count == 0 && e.Sender is null) || e.Keys.Any(k => !Names.IsKey(k)) || (e.Sender is not null && !Names.IsDeclaredSender(e.Sender)))
            {
                return $"accepted event '{id}' with keys [{string.Join(", ", e.Keys)}], sender {e.Sender}";
            }

            var d = e.Delivery;
            if (d.Retries is < 0 or > 100 || d.Timeout < 1 || d.Concurrency is < 1 or > 10_000 || d.MaxEventAge < 1000
                || !double.IsFinite(d.ExponentialTimeoutCoefficient) || !double.IsFinite(d.ExponentialBackoffCoefficient))
            {
                return $"accepted event '{id}' with delivery {d}";
            }
        }

        foreach (var (id, route) in s.Routes)
        {
            if (!Names.IsHandlerId(id) || !route.Path.Text.StartsWith('/'))
            {
                return $"accepted route '{id}' with path {route.Path}";
            }
        }

        return null;
    }

    private static string? AppInvariant(AppManifest a) =>
        Names.IsAppName(a.Vendor) && Names.IsAppName(a.Name) && a.Version.Length > 0 && Names.IsSender(a.SenderId)
            ? null
            : $"accepted app {a.AppId}";
}
