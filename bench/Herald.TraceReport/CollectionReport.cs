using Microsoft.Diagnostics.Tracing;

namespace Herald.TraceReport;

/// <summary>
/// Every collection in a trace: the time from suspending the process to resuming it, the generation it condemned, and
/// what it promoted (from the heap statistics that follow it), summed up by generation.
/// </summary>
internal static class CollectionReport
{
    private sealed record Collection(int Generation, double PauseMs, double SuspendMs, long PromotedFromGen0, long PromotedFromGen1);

    public static int Print(string path, TextWriter output)
    {
        using var source = new EventPipeEventSource(path);
        var collections = new List<Collection>();
        double suspendStart = 0, suspendMs = 0;
        int? generation = null;
        long fromGen0 = 0, fromGen1 = 0;
        source.Clr.GCSuspendEEStart += e => suspendStart = e.TimeStampRelativeMSec;
        source.Clr.GCSuspendEEStop += e => suspendMs = e.TimeStampRelativeMSec - suspendStart;
        source.Clr.GCStart += e => generation = e.Depth;
        source.Clr.GCHeapStats += e => (fromGen0, fromGen1) = (e.TotalPromotedSize0, e.TotalPromotedSize1);
        source.Clr.GCRestartEEStop += e =>
        {
            if (generation is { } condemned)
            {
                collections.Add(new Collection(condemned, e.TimeStampRelativeMSec - suspendStart, suspendMs, fromGen0, fromGen1));
            }

            generation = null;
        };
        source.Process();

        if (collections.Count == 0)
        {
            output.WriteLine("The trace has no collections: record it with dotnet-trace collect --profile gc-collect (or gc-verbose).");
            return 1;
        }

        output.WriteLine("| generation | collections | pause mean ms | p50 | max | total ms | suspending mean ms | promoted from gen0, mean KiB | from gen1 |");
        output.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var group in collections.GroupBy(c => c.Generation).OrderBy(g => g.Key))
        {
            var pauses = group.Select(c => c.PauseMs).Order().ToList();
            output.WriteLine($"| gen{group.Key} | {group.Count()} | {pauses.Average():0.00} | {pauses[pauses.Count / 2]:0.00} | {pauses[^1]:0.00} | {pauses.Sum():0} | "
                + $"{group.Average(c => c.SuspendMs):0.00} | {group.Average(c => c.PromotedFromGen0) / 1024:0} | {group.Average(c => c.PromotedFromGen1) / 1024:0} |");
        }

        return 0;
    }
}
