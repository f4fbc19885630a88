using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Herald.LoadGen;

/// <summary>
/// Which types this process allocates, by the runtime's allocation sampling (one <c>GCAllocationTick</c> event per
/// about 100 KB allocated, naming the type of the object that crossed it, so a type's share of the samples is about its
/// share of the bytes). Turned on for the measured events with <c>HERALD_LOADGEN_ALLOCATIONS=1</c>; the driver prints
/// the top types after its result lines.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    private readonly ConcurrentDictionary<string, long> _samples = new(StringComparer.Ordinal);
    private volatile bool _recording = true;

    public static AllocationSampler? StartIfAsked() =>
        Environment.GetEnvironmentVariable("HERALD_LOADGEN_ALLOCATIONS") == "1" ? new AllocationSampler() : null;

    public async Task StopAndReportAsync(TextWriter output, int top = 30)
    {
        _recording = false;
        var total = Math.Max(1, _samples.Values.Sum());
        await output.WriteLineAsync($"allocations by type ({total} samples of about 100 KB):");
        foreach (var (type, count) in _samples.OrderByDescending(p => p.Value).Take(top))
        {
            await output.WriteLineAsync($"  {100.0 * count / total,5:0.0}% {type}");
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_recording || eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.PayloadNames is not { } names)
        {
            return;
        }

        var index = names.IndexOf("TypeName");
        var type = index >= 0 ? eventData.Payload?[index] as string ?? "?" : "?";
        _samples.AddOrUpdate(type, 1, static (_, count) => count + 1);
    }
}
