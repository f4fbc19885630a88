using System.Buffers;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Herald.Broker.Admin;
using Herald.Broker.Feeds;
using Herald.Broker.Registry;
using Herald.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Herald.Broker.Http;

/// <summary>
/// Server-Sent Event streams: the live tail (<c>GET /{account}/{workspace}/events</c>, also under
/// <c>/colossus/v0</c> where VTEX's toolbelt reads it) and the admin's delivery
/// activity (<c>GET /_herald/v1/{account}/{workspace}/activity</c>), written by ASP.NET Core's
/// <see cref="TypedResults.ServerSentEvents{T}(IAsyncEnumerable{SseItem{T}})"/>. Each opens with <c>event: ping</c>
/// and sends one every 45 s without events.
/// </summary>
internal static class StreamEndpoints
{
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(45);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The type of the event that tells a tail's reader why it ends (its <c>onUnsubscribe</c> value is the data).</summary>
    public const string UnsubscribeEvent = "unsubscribe";

    private static readonly SseItem<string> Ping = new("{}", "ping");

    public static void Map(IEndpointRouteBuilder routes)
    {
        foreach (var prefix in new[] { "", HeraldPaths.ColossusPrefix })
        {
            routes.MapGet(prefix + "/{account}/{workspace}/events", Tail).RequireAuthorization(BrokerAuth.WorkspacePolicy);
        }

        routes.MapGet(HeraldPaths.AdminPrefix + "/{account}/{workspace}/activity", Activity).RequireAuthorization(BrokerAuth.AdminPolicy);
    }

    private static ServerSentEventsResult<string> Tail(HttpContext http, string account, string workspace, string? sender, string[]? keys, string? onUnsubscribe, AppRegistry registry, Broadcast<HeraldEvent> events, TimeProvider timeProvider)
    {
        var caller = http.Caller();
        var keySet = keys is { Length: > 0 } ? keys.ToHashSet(StringComparer.Ordinal) : null;
        var reader = events.Subscribe(e =>
            string.Equals(e.Account, account, StringComparison.Ordinal) && string.Equals(e.Workspace, workspace, StringComparison.Ordinal)
            && (string.IsNullOrEmpty(sender) || string.Equals(e.Sender, sender, StringComparison.Ordinal))
            && (keySet is null || keySet.Contains(e.Key)));
        // A tail opened with an app token ends when that token stops working (relink or unlink).
        var tokenHash = caller.App?.Stored.TokenHash;
        var watch = tokenHash is null ? null : new Revocation(registry, tokenHash);
        // VTEX's toolbelt asks with onUnsubscribe=link_interrupted to be told when the stream ends for that reason.
        var farewell = string.IsNullOrEmpty(onUnsubscribe) ? (SseItem<string>?)null : new SseItem<string>(onUnsubscribe, UnsubscribeEvent);
        return TypedResults.ServerSentEvents(ItemsAsync(reader, WriteTailEvent, timeProvider, watch, farewell, http.RequestAborted));
    }

    private static ServerSentEventsResult<string> Activity(HttpContext http, string account, string workspace, Broadcast<ActivityInfo> activity, TimeProvider timeProvider)
    {
        var reader = activity.Subscribe(a => string.Equals(a.Account, account, StringComparison.Ordinal) && string.Equals(a.Workspace, workspace, StringComparison.Ordinal));
        return TypedResults.ServerSentEvents(ItemsAsync(reader, static (writer, item) => JsonSerializer.Serialize(writer, item, Json), timeProvider, null, null, http.RequestAborted));
    }

    /// <summary>
    /// A reader's items as events, each one JSON object, with a ping first (so the response's headers go out at once:
    /// the caller knows it is subscribed before any event) and after every <see cref="PingInterval"/> without one.
    /// The stream ends when the caller goes away, or as soon as <paramref name="revocation"/>'s token stops working,
    /// after <paramref name="farewell"/> when there is one.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> ItemsAsync<T>(Broadcast<T>.Reader reader, Action<Utf8JsonWriter, T> write, TimeProvider timeProvider, Revocation? revocation, SseItem<string>? farewell, [EnumeratorCancellation] CancellationToken stopping)
    {
        using (reader)
        {
            yield return Ping;
            var buffer = new ArrayBufferWriter<byte>();
            while (!stopping.IsCancellationRequested)
            {
                // The registry's change token is taken before the token is checked: a relink after the check wakes the wait.
                var changed = revocation?.Registry.Changed ?? CancellationToken.None;
                if (revocation is { Revoked: true })
                {
                    if (farewell is { } last)
                    {
                        yield return last;
                    }

                    yield break;
                }

                bool more;
                var quiet = false;
                using (var ping = new CancellationTokenSource(PingInterval, timeProvider))
                using (var linked = CancellationTokenSource.CreateLinkedTokenSource(ping.Token, stopping, changed))
                {
                    try
                    {
                        more = await reader.Items.WaitToReadAsync(linked.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        more = !stopping.IsCancellationRequested;
                        quiet = ping.IsCancellationRequested;
                        if (more && !quiet)
                        {
                            // The registry changed: check the token again.
                            continue;
                        }
                    }
                }

                if (!more)
                {
                    yield break;
                }

                if (quiet)
                {
                    yield return Ping;
                    continue;
                }

                while (reader.Items.TryRead(out var item))
                {
                    buffer.Clear();
                    using (var writer = new Utf8JsonWriter(buffer))
                    {
                        write(writer, item);
                    }

                    yield return new SseItem<string>(Encoding.UTF8.GetString(buffer.WrittenSpan));
                }
            }
        }
    }

    /// <summary>Whether an app token a stream was opened with still works: a relink or unlink revokes it.</summary>
    private sealed record Revocation(AppRegistry Registry, string TokenHash)
    {
        public bool Revoked => Registry.Current.FindByTokenHash(TokenHash) is null;
    }

    private static void WriteTailEvent(Utf8JsonWriter writer, HeraldEvent e)
    {
        writer.WriteStartObject();
        writer.WriteString("id", e.Id.ToString());
        writer.WriteString("sender", e.Sender);
        writer.WriteString("key", e.Key);
        writer.WriteString("subject", e.Subject);
        writer.WritePropertyName("body");
        using (var body = JsonDocument.Parse(e.Body))
        {
            body.RootElement.WriteTo(writer);
        }

        writer.WriteString("time", e.Time);
        writer.WriteEndObject();
    }
}
