using System.Text.Json;
using Herald.Broker.Dispatching;
using Herald.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Herald.Broker.Internal;

/// <summary>
/// The broker's health checks, on <c>Microsoft.Extensions.Diagnostics.HealthChecks</c>: <c>/healthz</c> (live) runs
/// none and answers while the process serves; <c>/readyz</c> (ready) runs the ones tagged <see cref="Ready"/>.
/// </summary>
internal static class BrokerHealth
{
    /// <summary>The tag of the checks <c>/readyz</c> runs.</summary>
    public const string Ready = "ready";

    /// <summary>How long one check may take before it counts as failed.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>Writes the report as JSON: the overall status, and each check's status and description.</summary>
    public static Task WriteAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json; charset=utf-8";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
        };
        return http.Response.WriteAsync(JsonSerializer.Serialize(body, Json), http.RequestAborted);
    }
}

/// <summary>Unhealthy while the store does not answer: the broker can neither accept nor deliver events.</summary>
internal sealed class StoreHealthCheck(IEventStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await store.PingAsync(cancellationToken).ConfigureAwait(false)
            ? HealthCheckResult.Healthy("The store answers.")
            : HealthCheckResult.Unhealthy("The broker's store does not answer: publishes are answered 503 and nothing is delivered until it does.");
}

/// <summary>
/// Degraded when a subscription is not being delivered: its worker stopped on its own (until the broker restarts), or
/// the store could not open its queue yet (the broker retries by itself). The broker still accepts events meanwhile.
/// </summary>
internal sealed class DeliveryHealthCheck(Dispatcher dispatcher) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(Of(dispatcher.StoppedWorkers(), dispatcher.UnopenedQueues()));

    /// <summary>The result for the subscriptions whose worker has stopped and those whose queue is not open yet.</summary>
    public static HealthCheckResult Of(IReadOnlyList<string> stopped, IReadOnlyList<string> unopened)
    {
        if (stopped.Count == 0 && unopened.Count == 0)
        {
            return HealthCheckResult.Healthy("Every subscription's worker is running.");
        }

        var parts = new List<string>();
        if (stopped.Count > 0)
        {
            parts.Add($"Delivery has stopped for {string.Join(", ", stopped)}; the broker's log says why. Restart the broker to deliver them.");
        }

        if (unopened.Count > 0)
        {
            parts.Add($"The store could not open the queue of {string.Join(", ", unopened)} yet; the broker retries every poll interval and its log says why.");
        }

        parts.Add("Events are still accepted.");
        return HealthCheckResult.Degraded(string.Join(" ", parts));
    }
}
