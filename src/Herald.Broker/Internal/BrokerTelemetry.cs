using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Http.Headers;
using Herald.Broker.Dispatching;
using Herald.Broker.Internal;
using Herald.Telemetry;
using Microsoft.AspNetCore.Http;

namespace Herald.Broker;

/// <summary>
/// The broker's ActivitySource and Meter, named for OpenTelemetry's messaging conventions. One trace per event: the
/// publish is a Producer span <c>publish {key}</c> whose context is stored with the event; every delivery attempt is
/// a Client span <c>deliver {handlerId}</c>, a child of that stored context, and the delivery carries the attempt's
/// context to the app (whose SDK continues it in its handler span).
/// </summary>
public static class BrokerTelemetry
{
    /// <summary>The name of the broker's ActivitySource and Meter.</summary>
    public const string Name = HeraldInstrumentation.Broker;

    /// <summary>The <c>messaging.system</c> of Herald's spans and metrics.</summary>
    public const string MessagingSystem = "herald";

    internal static readonly ActivitySource Source = new(Name);

    internal static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Published = Meter.CreateCounter<long>("herald.events.published", "{event}", "Events accepted by publish.");

    internal static readonly Counter<long> Outcomes = Meter.CreateCounter<long>("herald.deliveries.outcomes", "{attempt}", "Delivery attempts by outcome (delivered, retrying, dead).");

    internal static readonly Counter<long> AuthRefused = Meter.CreateCounter<long>("herald.auth.refused", "{request}", "Requests refused for their credentials, by reason (missing, unknown, not_admin, other_workspace).");

    internal static readonly Histogram<double> OperationDuration = Meter.CreateHistogram("messaging.client.operation.duration", "s", "Duration of publish and delivery operations.", advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = HeraldInstrumentation.DurationBuckets });

    // The gauges live as long as the process and report every running broker's last backlog sample (one broker per
    // process in production; tests run several). Instruments made per broker would be disposed with it, and a metrics
    // reader that merged two of the same name would drop both.
    private static readonly ConcurrentDictionary<BacklogGauges, byte> s_backlogs = new();

    internal static readonly ObservableGauge<long> Pending = Meter.CreateObservableGauge("herald.deliveries.pending", () => Backlog(c => c.Pending), "{delivery}", "Deliveries waiting for an attempt (due now or after a retry delay), per subscription.");

    internal static readonly ObservableGauge<long> InFlight = Meter.CreateObservableGauge("herald.deliveries.in_flight", () => Backlog(c => c.InFlight), "{delivery}", "Deliveries leased to an attempt that is running, per subscription.");

    internal static readonly ObservableGauge<long> Dead = Meter.CreateObservableGauge("herald.deliveries.dead", () => Backlog(c => c.Dead), "{delivery}", "Dead letters waiting for a redrive or a purge, per subscription.");

    internal static readonly ObservableGauge<double> Lag = Meter.CreateObservableGauge("herald.deliveries.lag", Lags, "s", "How long ago the oldest event a subscription has not yet delivered (pending or in flight) was accepted; 0 when it is caught up.");

    internal static void Track(BacklogGauges backlog) => s_backlogs.TryAdd(backlog, 0);

    internal static void Untrack(BacklogGauges backlog) => s_backlogs.TryRemove(backlog, out _);

    private static IEnumerable<Measurement<double>> Lags()
    {
        foreach (var backlog in s_backlogs.Keys)
        {
            foreach (var (subscription, lag) in backlog.Lags())
            {
                yield return new Measurement<double>(lag.TotalSeconds, new KeyValuePair<string, object?>("herald.subscription", subscription));
            }
        }
    }

    private static IEnumerable<Measurement<long>> Backlog(Func<Herald.Storage.DeliveryCounts, long> pick)
    {
        foreach (var backlog in s_backlogs.Keys)
        {
            foreach (var (subscription, counts) in backlog.Counts)
            {
                yield return new Measurement<long>(pick(counts), new KeyValuePair<string, object?>("herald.subscription", subscription));
            }
        }
    }

    /// <summary>
    /// Starts the publish span: a child of the request's activity when it is recorded (ASP.NET Core's own
    /// instrumentation traces requests), else of the caller's <c>traceparent</c>/<c>tracestate</c> read with the
    /// process's <see cref="DistributedContextPropagator"/>. ASP.NET Core also makes an unrecorded request activity
    /// just for its log scopes; a child of that one would never be sampled, so it is set aside while the span starts.
    /// </summary>
    internal static Activity? StartPublish(string key, string account, string workspace, IHeaderDictionary headers)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        // Under a recorded request span (ASP.NET Core's, when a host traces requests), publish is its child; else it
        // continues the caller's traceparent, with no current activity for StartActivity to prefer over it.
        var request = Activity.Current;
        var parent = request is { Recorded: true } ? request.Context : Extract(headers);
        Activity.Current = null;
        Activity? span;
        try
        {
            span = Source.StartActivity(ActivityKind.Producer, parent, name: "publish " + key);
        }
        finally
        {
            Activity.Current = request;
        }

        span?.SetTag("messaging.system", MessagingSystem);
        span?.SetTag("messaging.operation.type", "send");
        span?.SetTag("messaging.operation.name", "publish");
        span?.SetTag("messaging.destination.name", key);
        span?.SetTag("herald.account", account);
        span?.SetTag("herald.workspace", workspace);
        return span;
    }

    /// <summary>
    /// The trace context stored with an event, the parent of its delivery attempts: the publish span's when there is
    /// one, else the request activity's, else the caller's; a new trace when the caller sent none.
    /// </summary>
    internal static (string TraceParent, string? TraceState) ContextToStore(Activity? publish, IHeaderDictionary headers)
    {
        if ((publish ?? Activity.Current) is { IdFormat: ActivityIdFormat.W3C } activity)
        {
            return (activity.Id!, activity.TraceStateString);
        }

        var caller = Extract(headers);
        if (caller != default)
        {
            return (Format(caller), caller.TraceState);
        }

        return (Format(new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded)), null);
    }

    /// <summary>Starts the span of one delivery attempt, a child of the event's stored trace context.</summary>
    internal static Activity? StartAttempt(HeraldEvent evt, string subscriptionId, string handlerId, int attempt)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(evt.TraceParent, evt.TraceState, isRemote: true, out var parent);
        var span = Source.StartActivity(ActivityKind.Client, parent, name: "deliver " + handlerId);
        span?.SetTag("messaging.system", MessagingSystem);
        span?.SetTag("messaging.operation.type", "process");
        span?.SetTag("messaging.operation.name", "deliver");
        span?.SetTag("messaging.destination.name", evt.Key);
        span?.SetTag("messaging.message.id", evt.Id.ToString());
        span?.SetTag("herald.subscription", subscriptionId);
        span?.SetTag("herald.delivery.attempt", attempt);
        return span;
    }

    /// <summary>Counts an attempt's outcome, and its duration when the app was called.</summary>
    internal static void RecordOutcome(string outcome, string subscriptionId, AttemptResult? result)
    {
        var tags = new TagList
        {
            { "messaging.system", MessagingSystem },
            { "herald.outcome", outcome },
            { "herald.subscription", subscriptionId },
        };
        if (result is not null && !result.Succeeded)
        {
            tags.Add("error.type", ErrorType(result.Status, result.Error));
        }

        Outcomes.Add(1, tags);
        if (result is not null)
        {
            OperationDuration.Record(result.Duration.TotalSeconds, new KeyValuePair<string, object?>("messaging.operation.name", "deliver"), new KeyValuePair<string, object?>("messaging.system", MessagingSystem));
        }
    }

    /// <summary>The status code when the app answered, else the kind of failure (<c>timeout</c>, <c>network</c>).</summary>
    internal static string ErrorType(int? status, string? error) =>
        status?.ToString(CultureInfo.InvariantCulture) ?? (error is { } text && text.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon ? text[..colon] : "_OTHER");

    /// <summary>Records an attempt's outcome on its span: the HTTP status, and <c>error.type</c> when it failed.</summary>
    internal static void EndAttempt(Activity? span, int? status, string? error)
    {
        if (span is null)
        {
            return;
        }

        if (status is { } code)
        {
            span.SetTag("http.response.status_code", code);
        }

        if (status is >= 200 and < 300)
        {
            return;
        }

        span.SetTag("error.type", ErrorType(status, error));
        span.SetStatus(ActivityStatusCode.Error, error);
    }

    /// <summary>Puts the trace context of the attempt (or, without a span, the event's stored one) on a delivery.</summary>
    internal static void Inject(Activity? attempt, HeraldEvent evt, HttpRequestHeaders headers)
    {
        if (attempt is not null)
        {
            DistributedContextPropagator.Current.Inject(attempt, headers, static (carrier, name, value) => ((HttpRequestHeaders)carrier!).TryAddWithoutValidation(name, value));
            return;
        }

        if (evt.TraceParent is not null)
        {
            headers.TryAddWithoutValidation("traceparent", evt.TraceParent);
            if (evt.TraceState is not null)
            {
                headers.TryAddWithoutValidation("tracestate", evt.TraceState);
            }
        }
    }

    private static ActivityContext Extract(IHeaderDictionary headers)
    {
        DistributedContextPropagator.Current.ExtractTraceIdAndState(headers, static (carrier, name, out value, out values) =>
        {
            values = null;
            value = ((IHeaderDictionary)carrier!)[name].ToString();
            value = value.Length == 0 ? null : value;
        }, out var traceParent, out var traceState);
        return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context) ? context : default;
    }

    private static string Format(ActivityContext context) =>
        $"00-{context.TraceId.ToHexString()}-{context.SpanId.ToHexString()}-{((int)context.TraceFlags).ToString("x2", CultureInfo.InvariantCulture)}";
}
