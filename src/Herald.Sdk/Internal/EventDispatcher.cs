using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.RateLimiting;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.Sdk.Internal;

/// <summary>
/// Serves <c>POST /{account}/{workspace}/_events</c>: checks the signature, finds the handler named by
/// <c>x-event-handler-id</c>, parses the body, applies the handler's rate limit and runs it, mapping the outcome
/// to a status (DESIGN §3).
/// </summary>
internal sealed class EventDispatcher(ServiceDefinition definition, HeraldClients clients, ReplayGuard replays, TimeProvider timeProvider, ILoggerFactory loggerFactory)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("Herald.Sdk.Events");
    private readonly ConcurrentDictionary<string, ILogger> _handlerLoggers = new(StringComparer.Ordinal);

    public async Task HandleAsync(HttpContext http)
    {
        var request = http.Request;
        var cancellationToken = http.RequestAborted;
        var account = request.RouteValues["account"] as string ?? string.Empty;
        var workspace = request.RouteValues["workspace"] as string ?? string.Empty;
        // Each header is read once: Kestrel looks a custom header up by name on every read.
        var headers = request.Headers;
        var handlerId = headers[HeraldHeaders.EventHandlerId].ToString();
        var webhookId = headers[HeraldHeaders.WebhookId].ToString();
        var timestamp = headers[HeraldHeaders.WebhookTimestamp].ToString();
        var attemptText = headers[HeraldHeaders.EventAttempt].ToString();

        var body = await ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);

        var check = WebhookSignature.Verify(
            definition.Settings.SigningSecrets,
            webhookId,
            timestamp,
            headers[HeraldHeaders.WebhookSignature],
            body,
            timeProvider.GetUtcNow());
        if (check != SignatureCheck.Valid)
        {
            Log.SignatureRejected(_logger, handlerId, check);
            await Problems.WriteAsync(http, StatusCodes.Status401Unauthorized, "Delivery signature not valid", SignatureDetail(check)).ConfigureAwait(false);
            return;
        }

        var signed = new DeliveryContext(
            webhookId, timestamp, headers[HeraldHeaders.RequestId].ToString(),
            handlerId, headers[HeraldHeaders.EventKey].ToString(), headers[HeraldHeaders.EventSender].ToString(), headers[HeraldHeaders.EventSubject].ToString(),
            account, workspace, attemptText);
        if (!DeliveryContextSignature.Verify(definition.Settings.SigningSecrets, signed, headers[HeraldHeaders.ContextSignature]))
        {
            Log.SignatureRejected(_logger, handlerId, SignatureCheck.Mismatch);
            await Problems.WriteAsync(http, StatusCodes.Status401Unauthorized, "Delivery signature not valid",
                $"The {HeraldHeaders.ContextSignature} header does not sign this delivery's handler, key, sender, subject, account, workspace and attempt: it was altered, or did not come from the Herald broker the app is linked to.").ConfigureAwait(false);
            return;
        }

        if (!replays.TryAccept(signed.EventId, signed.RequestId))
        {
            Log.SignatureRejected(_logger, handlerId, SignatureCheck.Mismatch);
            await Problems.WriteAsync(http, StatusCodes.Status401Unauthorized, "Delivery replayed",
                "This exact delivery attempt was accepted before: a replay is refused. The broker sends every attempt with a new x-request-id.").ConfigureAwait(false);
            return;
        }

        if (!definition.Events.TryGetValue(handlerId, out var entry))
        {
            Log.UnknownEventHandler(_logger, handlerId);
            await Problems.WriteAsync(
                http,
                StatusCodes.Status404NotFound,
                $"Unknown event handler: this app handles {Describe(definition.Events.Keys)}; declare it in {definition.ServiceFile} and service.Events",
                $"Event handler not found for {handlerId}").ConfigureAwait(false);
            return;
        }

        JsonElement json;
        try
        {
            json = JsonSerializer.Deserialize<JsonElement>(body);
        }
        catch (JsonException e)
        {
            Log.EventBodyNotJson(_logger, handlerId, e.Message);
            await Problems.WriteAsync(
                http,
                StatusCodes.Status400BadRequest,
                "Event body not JSON",
                $"The body of the delivery to '{handlerId}' is not JSON ({e.Message}). Events carry a JSON object or array with Content-Type: application/json.").ConfigureAwait(false);
            return;
        }

        using var lease = entry.Limiter is null ? null : await entry.Limiter.AcquireAsync(1, cancellationToken).ConfigureAwait(false);
        if (lease is { IsAcquired: false })
        {
            TimeSpan? retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null;
            Log.EventRateLimited(_logger, handlerId);
            await Problems.WriteAsync(
                http,
                StatusCodes.Status429TooManyRequests,
                "Handler rate limited",
                $"The handler '{handlerId}' is at its rateLimitPerReplica in {definition.ServiceFile}; the delivery will be retried later.",
                retryAfter).ConfigureAwait(false);
            return;
        }

        var eventId = headers[HeraldHeaders.EventId].ToString();
        var attempt = int.TryParse(attemptText, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 1;
        var timeText = headers[HeraldHeaders.EventTime].ToString();
        // A Herald broker sends the round-trip ("O") form, which has a fast exact parser; any other form is parsed as well.
        var time = DateTimeOffset.TryParseExact(timeText, "O", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)
            || DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out t) ? t : (DateTimeOffset?)null;
        var credentialHeader = headers[HeraldHeaders.Credential].ToString();
        var credential = credentialHeader.Length == 0 ? null : credentialHeader;
        var context = new EventContext
        {
            Body = json,
            Key = signed.Key,
            Sender = signed.Sender,
            Subject = signed.Subject,
            Account = account,
            Workspace = workspace,
            Credential = credential,
            EventId = eventId,
            Attempt = attempt,
            HandlerId = handlerId,
            Time = time,
            Clients = clients.For(new ContextScope(account, workspace, credential)),
            Services = http.RequestServices,
            Logger = _handlerLoggers.GetOrAdd(handlerId, static (id, factory) => factory.CreateLogger("Herald.Events." + id), loggerFactory),
            CancellationToken = cancellationToken,
        };

        using var activity = Telemetry.StartHandlerActivity($"process {context.Key}", ActivityKind.Consumer, headers[HeraldHeaders.TraceParent], headers["tracestate"]);
        // Without a listener the activity only carries the trace into the handler: nothing would read its tags.
        if (activity is not null && Telemetry.Source.HasListeners())
        {
            activity.SetTag("messaging.system", "herald");
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.destination.name", context.Key);
            activity.SetTag("messaging.message.id", eventId);
            activity.SetTag("herald.handler_id", handlerId);
        }

        var started = timeProvider.GetTimestamp();
        try
        {
            await entry.Handler(context).ConfigureAwait(false);
            http.Response.StatusCode = StatusCodes.Status204NoContent;
            Log.EventHandled(_logger, handlerId, eventId, attempt, timeProvider.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (TooManyRequestsException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            Log.EventHandlerAnswered(_logger, handlerId, eventId, attempt, e.StatusCode, e.Message);
            await Problems.WriteAsync(http, e.StatusCode, "Handler busy", e.Message, e.RetryAfter).ConfigureAwait(false);
        }
        catch (HeraldHttpException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            Log.EventHandlerAnswered(_logger, handlerId, eventId, attempt, e.StatusCode, e.Message);
            await Problems.WriteAsync(http, e.StatusCode, $"Handler '{handlerId}' failed", e.Message).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log.EventHandlerCancelled(_logger, handlerId, eventId, attempt);
            await Problems.WriteAsync(
                http,
                StatusCodes.Status503ServiceUnavailable,
                "Handler cancelled",
                $"The handler '{handlerId}' was cancelled because the request was aborted; the delivery will be retried.").ConfigureAwait(false);
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            Log.EventHandlerFailed(_logger, handlerId, eventId, attempt, e);
            await Problems.WriteAsync(
                http,
                StatusCodes.Status500InternalServerError,
                $"Handler '{handlerId}' failed",
                $"The handler '{handlerId}' threw {e.GetType().Name}: {e.Message}. The delivery will be retried; see the app's log for the stack trace.").ConfigureAwait(false);
        }
    }

    /// <summary>The request body; read straight into an array of its declared length when it has one.</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } length and <= int.MaxValue)
        {
            var body = new byte[length];
            await request.Body.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
            return body;
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private static string Describe(IEnumerable<string> ids)
    {
        var list = ids.Order(StringComparer.Ordinal).ToList();
        return list.Count == 0 ? "no events" : string.Join(", ", list);
    }

    private static string SignatureDetail(SignatureCheck check) => check switch
    {
        SignatureCheck.Missing =>
            "The delivery has no webhook-id, webhook-timestamp and webhook-signature headers. Deliveries must come from the Herald broker the app is linked to ('herald link').",
        SignatureCheck.BadTimestamp =>
            "The webhook-timestamp header is not a Unix time in seconds. Deliveries must come from the Herald broker the app is linked to ('herald link').",
        SignatureCheck.Expired =>
            $"The webhook-timestamp is more than {WebhookSignature.Tolerance.TotalMinutes} minutes away from this app's clock: the delivery is stale or replayed, or a clock is wrong. Check the clocks of the broker and the app.",
        _ =>
            "The webhook-signature does not match under any of the app's signing secrets. Relink the app ('herald link') so that it runs with the broker's current secret.",
    };
}
