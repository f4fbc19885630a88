using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Herald.Broker.Admin;
using Herald.Broker.Feeds;
using Herald.Broker.Registry;
using Herald.Broker.Security;
using Herald.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald.Broker.Http;

/// <summary>
/// Server-Sent Event streams: the live tail (<c>GET /{account}/{workspace}/events</c>) and the admin's delivery
/// activity (<c>GET /_herald/v1/{account}/{workspace}/activity</c>). Each sends <c>event: ping</c> every 45 s.
/// </summary>
internal static class StreamEndpoints
{
    public static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(45);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet("/{account}/{workspace}/events", TailAsync);
        routes.MapGet(HeraldPaths.AdminPrefix + "/{account}/{workspace}/activity", ActivityAsync);
    }

    private static async Task<IResult> TailAsync(HttpContext http, string account, string workspace, string? sender, string[]? keys, Credentials credentials, AppRegistry registry, Broadcast<HeraldEvent> events, TimeProvider timeProvider)
    {
        if (PublishEndpoints.TenantError(account, workspace) is { } tenantError)
        {
            return tenantError;
        }

        var (caller, authError) = BrokerAuth.Authenticate(http, credentials, registry);
        if (authError is not null)
        {
            return authError;
        }

        if (BrokerAuth.RequireWorkspace(http, caller!, account, workspace, $"This token cannot read events of {account}/{workspace}. Use the token of an app linked there, or the admin token.") is { } forbidden)
        {
            return forbidden;
        }

        var keySet = keys is { Length: > 0 } ? keys.ToHashSet(StringComparer.Ordinal) : null;
        using var reader = events.Subscribe(e =>
            string.Equals(e.Account, account, StringComparison.Ordinal) && string.Equals(e.Workspace, workspace, StringComparison.Ordinal)
            && (string.IsNullOrEmpty(sender) || string.Equals(e.Sender, sender, StringComparison.Ordinal))
            && (keySet is null || keySet.Contains(e.Key)));
        // A tail opened with an app token ends when that token stops working (relink or unlink).
        var tokenHash = caller!.App?.Stored.TokenHash;
        Func<bool> stillAllowed = tokenHash is null ? static () => true : () => registry.Current.FindByTokenHash(tokenHash) is not null;
        await StreamAsync(http, reader.Items, WriteTailEvent, timeProvider, stillAllowed).ConfigureAwait(false);
        return Results.Empty;
    }

    private static async Task<IResult> ActivityAsync(HttpContext http, string account, string workspace, Credentials credentials, AppRegistry registry, Broadcast<ActivityInfo> activity, TimeProvider timeProvider)
    {
        if (PublishEndpoints.TenantError(account, workspace) is { } tenantError)
        {
            return tenantError;
        }

        if (BrokerAuth.RequireAdmin(http, credentials, registry) is { } authError)
        {
            return authError;
        }

        using var reader = activity.Subscribe(a => string.Equals(a.Account, account, StringComparison.Ordinal) && string.Equals(a.Workspace, workspace, StringComparison.Ordinal));
        await StreamAsync(http, reader.Items, (writer, item) => JsonSerializer.Serialize(writer, item, Json), timeProvider, static () => true).ConfigureAwait(false);
        return Results.Empty;
    }

    private static async Task StreamAsync<T>(HttpContext http, ChannelReader<T> items, Action<Utf8JsonWriter, T> write, TimeProvider timeProvider, Func<bool> stillAllowed)
    {
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        var buffer = new ArrayBufferWriter<byte>();
        var stopping = http.RequestAborted;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                using var ping = new CancellationTokenSource(PingInterval, timeProvider);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(ping.Token, stopping);
                bool more;
                try
                {
                    more = await items.WaitToReadAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
                {
                    if (!stillAllowed())
                    {
                        break;
                    }

                    await response.Body.WriteAsync("event: ping\ndata: {}\n\n"u8.ToArray(), stopping).ConfigureAwait(false);
                    await response.Body.FlushAsync(stopping).ConfigureAwait(false);
                    continue;
                }

                if (!more || !stillAllowed())
                {
                    break;
                }

                while (items.TryRead(out var item))
                {
                    buffer.Clear();
                    using (var writer = new Utf8JsonWriter(buffer))
                    {
                        write(writer, item);
                    }

                    await response.Body.WriteAsync("data: "u8.ToArray(), stopping).ConfigureAwait(false);
                    await response.Body.WriteAsync(buffer.WrittenMemory, stopping).ConfigureAwait(false);
                    await response.Body.WriteAsync("\n\n"u8.ToArray(), stopping).ConfigureAwait(false);
                }

                await response.Body.FlushAsync(stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The reader went away.
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
