using System.Text.Json;
using Herald.Broker.Admin;
using Herald.Broker.Feeds;
using Herald.Broker.Internal;
using Herald.Broker.Registry;
using Herald.Storage;
using Microsoft.AspNetCore.Http;

namespace Herald.Broker.Publishing;

/// <summary>
/// Accepts events: validates, routes through the registry snapshot, writes the event and its deliveries in one
/// durable append (the store hands the new deliveries to their queues), then tells the live feeds.
/// </summary>
internal sealed class PublishService(
    AppRegistry registry,
    IEventStore store,
    Broadcast<HeraldEvent> events,
    Broadcast<ActivityInfo> activity,
    TimeProvider timeProvider)
{
    /// <summary>The longest subject (the <c>resource</c> query parameter) accepted.</summary>
    public const int MaxSubjectLength = 1024;

    /// <summary>The longest Idempotency-Key accepted.</summary>
    public const int MaxIdempotencyKeyLength = 255;


    /// <summary>
    /// Checks a publish's key, subject, idempotency key and body; returns what is wrong, or <c>null</c>.
    /// </summary>
    public static string? Validate(string key, string subject, string? idempotencyKey, ReadOnlySpan<byte> body)
    {
        if (!Names.IsKey(key))
        {
            return $"The event key '{Truncate(key)}' is not valid: it must be {Names.KeyRule} (e.g. send-event).";
        }

        if (subject.Length > MaxSubjectLength || subject.Any(c => c is < ' ' or > '~'))
        {
            return $"The subject (the 'resource' query parameter) must be at most {MaxSubjectLength} printable ASCII characters (it is delivered in the x-event-subject header); percent-encode anything else.";
        }

        if (idempotencyKey is not null && (idempotencyKey.Length is 0 or > MaxIdempotencyKeyLength || idempotencyKey.Any(c => c is < '!' or > '~')))
        {
            return $"The Idempotency-Key header must be 1 to {MaxIdempotencyKeyLength} visible ASCII characters.";
        }

        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return "The body is not valid UTF-8: send JSON encoded as UTF-8.";
        }

        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
            {
                return "The body must be a JSON object or array (e.g. {\"random\": 42}), sent as UTF-8.";
            }

            reader.Skip();
            if (reader.Read())
            {
                return "The body must hold exactly one JSON object or array; found more after it.";
            }
        }
        catch (JsonException ex)
        {
            return "The body is not valid JSON: " + ex.Message;
        }

        return null;
    }

    /// <summary>Routes and durably appends an event from <paramref name="sender"/>; validation must have passed.</summary>
    /// <param name="headers">The publish request's headers, for the caller's trace context (<c>traceparent</c>, <c>tracestate</c>).</param>
    /// <exception cref="StoreUnavailableException">The store could not write: nothing was accepted.</exception>
    public async Task<AppendResult> PublishAsync(string account, string workspace, string sender, string key, string subject, ReadOnlyMemory<byte> body, string? idempotencyKey, IHeaderDictionary headers, CancellationToken cancellationToken = default)
    {
        using var span = BrokerTelemetry.StartPublish(key, account, workspace, headers);
        var started = timeProvider.GetTimestamp();
        var now = timeProvider.GetUtcNow();
        var (traceParent, traceState) = BrokerTelemetry.ContextToStore(span, headers);
        var evt = new HeraldEvent(RandomIds.NewVersion7(now), account, workspace, sender, key, subject, body, now, traceParent) { TraceState = traceState };
        var subscriptions = registry.Current.Route(account, workspace, sender, key);
        var ids = new string[subscriptions.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = subscriptions[i].Id;
        }

        var result = await store.AppendAsync(evt, ids, idempotencyKey, cancellationToken).ConfigureAwait(false);
        BrokerTelemetry.OperationDuration.Record(timeProvider.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("messaging.operation.name", "publish"));
        span?.SetTag("messaging.message.id", result.EventId.ToString());
        if (!result.Duplicate)
        {
            BrokerTelemetry.Published.Add(1);
            events.Write(evt);
            if (activity.HasReaders)
            {
                activity.Write(new ActivityInfo("published", evt.Id.ToString(), key, sender, null, null, null, null, null, now)
                {
                    Account = account,
                    Workspace = workspace,
                });
            }
        }

        return result;
    }

    private static string Truncate(string value) => value.Length <= 140 ? value : value[..137] + "...";
}
