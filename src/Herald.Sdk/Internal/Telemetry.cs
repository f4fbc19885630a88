using System.Diagnostics;

namespace Herald.Sdk.Internal;

internal static class Telemetry
{
    public static readonly ActivitySource Source = new(HeraldSdk.ActivitySourceName);

    /// <summary>
    /// Starts the activity of a handler, continuing the caller's <c>traceparent</c>; started even without a listener,
    /// so that <see cref="Activity.Current"/> carries the trace into the handler and the clients it calls.
    /// </summary>
    public static Activity? StartHandlerActivity(string name, ActivityKind kind, string? traceParent, string? traceState)
    {
        var hasParent = ActivityContext.TryParse(traceParent, traceState, out var parent);
        var activity = hasParent
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind);
        if (activity is null && hasParent)
        {
            activity = new Activity(name);
            activity.SetParentId(parent.TraceId, parent.SpanId, parent.TraceFlags);
            activity.Start();
        }

        return activity;
    }
}
