using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace Herald.TraceReport;

/// <summary>
/// The runtime's allocation samples (GCAllocationTick, one per about 100 KB allocated) by type, as a share of the
/// sampled bytes; then, for one type, the stacks that allocated it and each frame's inclusive share.
/// </summary>
internal static class AllocationReport
{
    public static int Print(string path, string typeName, int frames, int top, TextWriter output)
    {
        using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(path));
        var byType = new Dictionary<string, long>(StringComparer.Ordinal);
        var byStack = new Dictionary<string, long>(StringComparer.Ordinal);
        var byFrame = new Dictionary<string, long>(StringComparer.Ordinal);
        long total = 0, ofType = 0;
        foreach (var traceEvent in log.Events)
        {
            if (traceEvent is not GCAllocationTickTraceData tick)
            {
                continue;
            }

            var bytes = tick.AllocationAmount64;
            var name = tick.TypeName ?? "?";
            total += bytes;
            byType[name] = byType.GetValueOrDefault(name) + bytes;
            if (!string.Equals(name, typeName, StringComparison.Ordinal))
            {
                continue;
            }

            ofType += bytes;
            var stack = new List<string>();
            for (var frame = traceEvent.CallStack(); frame is not null; frame = frame.Caller)
            {
                var method = frame.CodeAddress.FullMethodName;
                stack.Add(string.IsNullOrEmpty(method) ? frame.CodeAddress.ModuleName + "!?" : method);
            }

            var key = string.Join("\n      <- ", stack.Take(frames));
            byStack[key] = byStack.GetValueOrDefault(key) + bytes;
            foreach (var method in stack.Distinct(StringComparer.Ordinal))
            {
                byFrame[method] = byFrame.GetValueOrDefault(method) + bytes;
            }
        }

        if (total == 0)
        {
            output.WriteLine("The trace has no allocation samples: record it with dotnet-trace collect --profile gc-verbose.");
            return 1;
        }

        output.WriteLine($"Sampled {total / 1048576.0:0.0} MiB. By type:");
        foreach (var (name, bytes) in byType.OrderByDescending(p => p.Value).Take(top))
        {
            output.WriteLine($"{100.0 * bytes / total,6:0.0}%  {name}");
        }

        if (ofType == 0)
        {
            output.WriteLine($"\nNo samples of {typeName}.");
            return 0;
        }

        output.WriteLine($"\n{typeName}: {ofType / 1048576.0:0.0} MiB sampled. By stack (innermost frame first):");
        foreach (var (stack, bytes) in byStack.OrderByDescending(p => p.Value).Take(top))
        {
            output.WriteLine($"{100.0 * bytes / ofType,6:0.0}%  {stack}");
        }

        output.WriteLine($"\n{typeName}: each frame's share, including what it called:");
        foreach (var (method, bytes) in byFrame.OrderByDescending(p => p.Value).Take(top * 3))
        {
            output.WriteLine($"{100.0 * bytes / ofType,6:0.0}%  {method}");
        }

        return 0;
    }
}
