using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using NATS.Client.Core;

namespace Herald.Storage.Nats.Internal;

/// <summary>
/// How an event travels in a message: its body verbatim, its fields in headers (the subject percent-encoded, so any
/// text fits a header), and the subscriptions it was routed to.
/// </summary>
internal static class EventCodec
{
    public const string EventId = "Herald-Event-Id";
    public const string Account = "Herald-Account";
    public const string Workspace = "Herald-Workspace";
    public const string Sender = "Herald-Sender";
    public const string Key = "Herald-Key";
    public const string Subject = "Herald-Subject";
    public const string Time = "Herald-Time";
    public const string TraceParent = "Herald-Traceparent";
    public const string TraceState = "Herald-Tracestate";
    public const string Subscriptions = "Herald-Subs";
    public const string Subscription = "Herald-Sub";
    public const string EventSequence = "Herald-Event-Seq";
    public const string MsgId = "Nats-Msg-Id";

    public static NatsHeaders Headers(HeraldEvent evt)
    {
        var headers = new NatsHeaders
        {
            [EventId] = evt.Id.ToString("D"),
            [Account] = evt.Account,
            [Workspace] = evt.Workspace,
            [Sender] = evt.Sender,
            [Key] = evt.Key,
            [Time] = evt.Time.UtcTicks.ToString(CultureInfo.InvariantCulture),
        };
        if (evt.Subject.Length > 0)
        {
            headers[Subject] = Uri.EscapeDataString(evt.Subject);
        }

        if (evt.TraceParent is not null)
        {
            headers[TraceParent] = evt.TraceParent;
        }

        if (evt.TraceState is not null)
        {
            headers[TraceState] = evt.TraceState;
        }

        return headers;
    }

    /// <summary>A copy of the event fields of <paramref name="source"/>, for a message made from it.</summary>
    public static NatsHeaders CopyEvent(NatsHeaders source)
    {
        var headers = new NatsHeaders();
        foreach (var name in (ReadOnlySpan<string>)[EventId, Account, Workspace, Sender, Key, Subject, Time, TraceParent, TraceState])
        {
            if (source.TryGetValue(name, out var value))
            {
                headers[name] = value;
            }
        }

        return headers;
    }

    /// <summary>Makes the event fields in <paramref name="headers"/> a delivery's: the subscription and the event's sequence.</summary>
    public static NatsHeaders ForDelivery(NatsHeaders headers, string subscriptionId, ulong eventSequence)
    {
        headers[Subscription] = subscriptionId;
        headers[EventSequence] = eventSequence.ToString(CultureInfo.InvariantCulture);
        return headers;
    }

    public static HeraldEvent Event(NatsHeaders? headers, ReadOnlyMemory<byte> body)
    {
        if (headers is null || !headers.TryGetValue(EventId, out var id))
        {
            throw new InvalidDataException("A message on a Herald stream has no Herald-Event-Id header: the stream holds messages Herald did not write.");
        }

        return new HeraldEvent(
            Guid.Parse(id.ToString()),
            Get(headers, Account),
            Get(headers, Workspace),
            Get(headers, Sender),
            Get(headers, Key),
            headers.TryGetValue(Subject, out var subject) ? Uri.UnescapeDataString(subject.ToString()) : "",
            body,
            new DateTimeOffset(long.Parse(Get(headers, Time), CultureInfo.InvariantCulture), TimeSpan.Zero),
            headers.TryGetValue(TraceParent, out var trace) ? trace.ToString() : null)
        {
            TraceState = headers.TryGetValue(TraceState, out var state) ? state.ToString() : null,
        };
    }

    public static string Get(NatsHeaders headers, string name) => headers.TryGetValue(name, out var value) ? value.ToString() : "";

    public static string[] SubscriptionIds(NatsHeaders? headers) =>
        headers is not null && headers.TryGetValue(Subscriptions, out var value) && value.ToString().Length > 0 ? value.ToString().Split(',') : [];

    /// <summary>Parses the raw header block of a stored message (<c>NATS/1.0</c>, then <c>Name: value</c> lines).</summary>
    public static NatsHeaders ParseRaw(string? base64)
    {
        var headers = new NatsHeaders();
        if (string.IsNullOrEmpty(base64))
        {
            return headers;
        }

        var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        foreach (var line in text.Split("\r\n").Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon]] = line[(colon + 1)..].Trim();
            }
        }

        return headers;
    }
}

/// <summary>A dead letter as the dead-letter stream keeps it: one JSON document per letter.</summary>
internal sealed record DeadLetterDocument(
    string SubscriptionId,
    string Reason,
    DateTimeOffset DeadAt,
    IReadOnlyList<AttemptRecord> Attempts,
    Guid EventId,
    string Account,
    string Workspace,
    string Sender,
    string Key,
    string Subject,
    byte[] Body,
    DateTimeOffset Time,
    string? TraceParent,
    ulong EventSequence)
{
    /// <summary>The event's <c>tracestate</c>; absent in documents written before it was kept.</summary>
    public string? TraceState { get; init; }

    public static DeadLetterDocument Of(string subscriptionId, string reason, DateTimeOffset deadAt, IReadOnlyList<AttemptRecord> attempts, HeraldEvent evt, ulong eventSequence) =>
        new(subscriptionId, reason, deadAt, attempts, evt.Id, evt.Account, evt.Workspace, evt.Sender, evt.Key, evt.Subject, evt.Body.ToArray(), evt.Time, evt.TraceParent, eventSequence) { TraceState = evt.TraceState };

    public HeraldEvent Event => new(EventId, Account, Workspace, Sender, Key, Subject, Body, Time, TraceParent) { TraceState = TraceState };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DeadLetterDocument))]
[JsonSerializable(typeof(List<AttemptRecord>))]
[JsonSerializable(typeof(StoredApp))]
internal sealed partial class StoreJson : JsonSerializerContext
{
    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, typeof(T), Default);

    public static T Deserialize<T>(ReadOnlySpan<byte> json) =>
        (T)(JsonSerializer.Deserialize(json, typeof(T), Default) ?? throw new InvalidDataException($"A stored {typeof(T).Name} is null."));
}
