using System.Globalization;
using System.Text;

namespace Herald.Fuzz;

/// <summary>One input that broke a rule: a crash, a hang, a 5xx, or an answer of the wrong shape.</summary>
/// <param name="Index">The input's index: with the run's seed it regenerates the input.</param>
/// <param name="Kind">What went wrong, e.g. <c>crash: InvalidOperationException</c>.</param>
/// <param name="Detail">The exception or the answer.</param>
/// <param name="Input">The input, as C#-escaped text.</param>
public sealed record FuzzFailure(long Index, string Kind, string Detail, string Input)
{
    public override string ToString() => $"#{Index} {Kind}: {Detail}{Environment.NewLine}    input: {Input}";
}

/// <summary>The figures of one fuzz run.</summary>
public sealed class FuzzReport(string target, int seed)
{
    private readonly Dictionary<string, long> _outcomes = new(StringComparer.Ordinal);
    private readonly List<FuzzFailure> _failures = [];
    private readonly Dictionary<string, long> _known = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FuzzFailure> _knownExamples = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public string Target { get; } = target;

    public int Seed { get; } = seed;

    public long Inputs { get; private set; }

    public long FailureCount { get; private set; }

    public TimeSpan Elapsed { get; set; }

    public TimeSpan Slowest { get; private set; }

    public long SlowestIndex { get; private set; }

    /// <summary>Whether the time bound stopped the run before every input was tried.</summary>
    public bool StoppedByTime { get; set; }

    /// <summary>Whether an input did not finish within the hang limit (the run stops there).</summary>
    public bool Hung { get; set; }

    /// <summary>The first failures (at most <see cref="MaxKeptFailures"/> are kept; all are counted).</summary>
    public IReadOnlyList<FuzzFailure> Failures
    {
        get
        {
            lock (_gate)
            {
                return [.. _failures];
            }
        }
    }

    public IReadOnlyDictionary<string, long> Outcomes
    {
        get
        {
            lock (_gate)
            {
                return new SortedDictionary<string, long>(_outcomes, StringComparer.Ordinal);
            }
        }
    }

    public static int MaxKeptFailures => 50;

    /// <summary>Inputs that hit a known, reported issue (see <see cref="KnownIssues"/>), by issue.</summary>
    public IReadOnlyDictionary<string, long> KnownIssueCounts
    {
        get
        {
            lock (_gate)
            {
                return new SortedDictionary<string, long>(_known, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>The first input that hit each known issue.</summary>
    public IReadOnlyDictionary<string, FuzzFailure> KnownIssueExamples
    {
        get
        {
            lock (_gate)
            {
                return new SortedDictionary<string, FuzzFailure>(_knownExamples, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Counts <paramref name="failure"/> under the known issue <paramref name="issue"/>; with <paramref name="strict"/> it is a failure too.</summary>
    public void Known(string issue, FuzzFailure failure, bool strict)
    {
        lock (_gate)
        {
            _known[issue] = _known.GetValueOrDefault(issue) + 1;
            _knownExamples.TryAdd(issue, failure);
        }

        if (strict)
        {
            Fail(failure);
        }
    }

    public void Record(long index, string outcome, TimeSpan duration)
    {
        lock (_gate)
        {
            Inputs++;
            _outcomes[outcome] = _outcomes.GetValueOrDefault(outcome) + 1;
            if (duration > Slowest)
            {
                Slowest = duration;
                SlowestIndex = index;
            }
        }
    }

    public void Fail(FuzzFailure failure)
    {
        lock (_gate)
        {
            FailureCount++;
            if (_failures.Count < MaxKeptFailures)
            {
                _failures.Add(failure);
            }
        }
    }

    public void Print(TextWriter output)
    {
        var culture = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(culture, $"target: {Target}  seed: {Seed}"));
        output.WriteLine(string.Create(culture, $"inputs run: {Inputs}  failures: {FailureCount}  elapsed: {Elapsed.TotalSeconds:F1} s  ({Inputs / Math.Max(Elapsed.TotalSeconds, 0.001):F0} inputs/s){(StoppedByTime ? "  (stopped by --seconds)" : "")}{(Hung ? "  HUNG" : "")}"));
        output.WriteLine(string.Create(culture, $"slowest input: #{SlowestIndex}, {Slowest.TotalMilliseconds:F1} ms"));
        var outcomes = Outcomes;
        output.WriteLine(string.Create(culture, $"distinct outcomes: {outcomes.Count}"));
        foreach (var (outcome, count) in outcomes.OrderByDescending(o => o.Value).ThenBy(o => o.Key, StringComparer.Ordinal))
        {
            output.WriteLine(string.Create(culture, $"  {count,8}  {outcome}"));
        }

        var known = KnownIssueCounts;
        output.WriteLine(string.Create(culture, $"known issues hit: {known.Values.Sum()}"));
        foreach (var (issue, count) in known)
        {
            output.WriteLine(string.Create(culture, $"  {count,8}  {issue}; first: {KnownIssueExamples[issue]}"));
        }

        foreach (var failure in Failures)
        {
            output.WriteLine("FAILURE " + failure);
        }
    }

    /// <summary><paramref name="value"/> as a C# string literal body, cut after <paramref name="max"/> characters.</summary>
    public static string Escape(string value, int max = 600)
    {
        var builder = new StringBuilder();
        foreach (var c in value.Length > max ? value[..max] : value)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when c < 0x20 || c > 0x7e => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => c.ToString(),
            });
        }

        if (value.Length > max)
        {
            builder.Append(CultureInfo.InvariantCulture, $"... ({value.Length} chars)");
        }

        return builder.ToString();
    }
}
