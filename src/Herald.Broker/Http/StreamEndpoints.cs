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
/// Server-Sent Event streams: the live tail (<c>GET /{account}/{workspace}/events</c>) and the admin's delivery
/// activity (<c>GET /_herald/v1/{account}/{workspace}/activity</c>), written by ASP.NET Core's
/// <see cref="TypedResults.ServerSentEvents{T}(IAsyncEnumerable{SseItem{T}})"/>. Each opens with <c>event: ping</c>
/// and sends one every 45 s without events.
/// </summary>
internal static class StreamEndpoints
{
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(45);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly SseItem<string> Ping = new("{}", "ping");

    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/{account}/{workspace}/events", Tail).RequireAuthorization(BrokerAuth.WorkspacePolicy);
        routes.MapGet(HeraldPaths.AdminPrefix + "/{account}/{workspace}/activity", Activity).RequireAuthorization(BrokerAuth.AdminPolicy);
    }

    private static ServerSentEventsResult<string> Tail(HttpContext http, string account, string workspace, string? sender, string[]? keys, AppRegistry registry, Broadcast<HeraldEvent> events, TimeProvider timeProvider)
    {
        var caller = http.Caller();
        var keySet = keys is { Length: > 0 } ? keys.ToHashSet(StringComparer.Ordinal) : null;
        var reader = events.Subscribe(e =>
            string.Equals(e.Account, account, StringComparison.Ordinal) && string.Equals(e.Workspace, workspace, StringComparison.Ordinal)
            && (string.IsNullOrEmpty(sender) || string.Equals(e.Sender, sender, StringComparison.Ordinal))
            && (keySet is null || keySet.Contains(e.Key)));
        // A tail opened with an app token ends when that token stops working (relink or unlink).
        var tokenHash = caller.App?.Stored.TokenHash;
        Func<bool> stillAllowed = tokenHash is null ? static () => true : () => registry.Current.FindByTokenHash(tokenHash) is not null;
        return TypedResults.ServerSentEvents(ItemsAsync(reader, WriteTailEvent, timeProvider, stillAllowed, http.RequestAborted));
    }

    private static ServerSentEventsResult<string> Activity(HttpContext http, string account, string workspace, Broadcast<ActivityInfo> activity, TimeProvider timeProvider)
    {
        var reader = activity.Subscribe(a => string.Equals(a.Account, account, StringComparison.Ordinal) && string.Equals(a.Workspace, workspace, StringComparison.Ordinal));
        return TypedResults.ServerSentEvents(ItemsAsync(reader, static (writer, item) => JsonSerializer.Serialize(writer, item, Json), timeProvider, static () => true, http.RequestAborted));
    }

    /// <summary>
    /// A reader's items as events, each one JSON object, with a ping first (so the response's headers go out at once:
    /// the caller knows it is subscribed before any event) and after every <see cref="PingInterval"/> without one.
    /// The stream ends when the caller goes away, or when <paramref name="stillAllowed"/> turns false.
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> ItemsAsync<T>(Broadcast<T>.Reader reader, Action<Utf8JsonWriter, T> write, TimeProvider timeProvider, Func<bool> stillAllowed, [EnumeratorCancellation] CancellationToken stopping)
    {
        using (reader)
        {
            yield return Ping;
            var buffer = new ArrayBufferWriter<byte>();
            while (!stopping.IsCancellationRequested)
            {
                bool more;
                var quiet = false;
                using (var ping = new CancellationTokenSource(PingInterval, timeProvider))
                using (var linked = CancellationTokenSource.CreateLinkedTokenSource(ping.Token, stopping))
                {
                    try
                    {
                        more = await reader.Items.WaitToReadAsync(linked.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        more = !stopping.IsCancellationRequested;
                        quiet = more;
                    }
                }

                if (!more || !stillAllowed())
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
