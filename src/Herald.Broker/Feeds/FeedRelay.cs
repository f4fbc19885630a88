using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Herald.Broker.Admin;
using Herald.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Broker.Feeds;

/// <summary>
/// Joins this broker's live feeds with those of the other brokers on a shared store (one whose store is an
/// <see cref="IFeedRelay"/>): what is published or delivered here is sent to them in batches, and what they send is
/// written to the feeds here, so a tail or activity stream read from any broker shows every broker's traffic. A feed is
/// sent only while another broker has announced readers of it, and this broker announces its own readers every
/// second. Five supervised loops (send and receive for each feed, and the announcements); best effort, as the feeds
/// are: a batch lost on the way is missed, never retried.
/// </summary>
internal sealed class FeedRelay(IFeedRelay relay, Broadcast<HeraldEvent> events, Broadcast<ActivityInfo> activity, BrokerOptions options, TimeProvider timeProvider, ILogger<FeedRelay> logger) : BackgroundService
{
    /// <summary>The relay's name for the tail of published events.</summary>
    public const string EventsFeed = "events";

    /// <summary>The relay's name for delivery activity.</summary>
    public const string ActivityFeed = "activity";

    /// <summary>The most items sent in one batch.</summary>
    public const int BatchSize = 256;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Set while this relay writes a received item to a local feed, so that its own readers leave it out.</summary>
    [ThreadStatic]
    private static bool t_receiving;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The readers start now, before ExecuteAsync returns to the host, so nothing published after start is missed.
        var localEvents = events.Subscribe(static _ => !t_receiving);
        var localActivity = activity.Subscribe(static _ => !t_receiving);
        return Task.WhenAll(
            SuperviseAsync("sending events", ct => SendAsync(localEvents, EventsFeed, WriteEvent, ct), localEvents, stoppingToken),
            SuperviseAsync("sending activity", ct => SendAsync(localActivity, ActivityFeed, (writer, item) => JsonSerializer.Serialize(writer, item, Json), ct), localActivity, stoppingToken),
            SuperviseAsync("receiving events", ct => ReceiveAsync(EventsFeed, ReadEvents, events, ct), null, stoppingToken),
            SuperviseAsync("receiving activity", ct => ReceiveAsync(ActivityFeed, batch => JsonSerializer.Deserialize<ActivityInfo[]>(batch.Span, Json) ?? [], activity, ct), null, stoppingToken),
            SuperviseAsync("announcing readers", AnnounceReadersAsync, null, stoppingToken));
    }

    private async Task SuperviseAsync(string loop, Func<CancellationToken, Task> run, IDisposable? owned, CancellationToken stoppingToken)
    {
        using (owned)
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await run(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    Log.FeedRelayFailed(logger, loop, ex);
                    try
                    {
                        await Task.Delay(options.PollInterval, timeProvider, stoppingToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
        }
    }

    private async Task SendAsync<T>(Broadcast<T>.Reader reader, string feed, Action<Utf8JsonWriter, T> write, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        while (await reader.Items.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!relay.HasRemoteReaders(feed))
            {
                // Nobody elsewhere reads this feed: what this broker's feed saw is dropped unserialised.
                while (reader.Items.TryRead(out _))
                {
                }

                continue;
            }

            buffer.Clear();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartArray();
                for (var count = 0; count < BatchSize && reader.Items.TryRead(out var item); count++)
                {
                    write(writer, item);
                }

                writer.WriteEndArray();
            }

            await relay.SendAsync(feed, buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every announce interval, tells the other brokers which feeds have readers here (beyond this relay's own).</summary>
    private async Task AnnounceReadersAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(IFeedRelay.AnnounceInterval, timeProvider);
        do
        {
            if (events.ReaderCount > 1)
            {
                await relay.AnnounceReadersAsync(EventsFeed, cancellationToken).ConfigureAwait(false);
            }

            if (activity.ReaderCount > 1)
            {
                await relay.AnnounceReadersAsync(ActivityFeed, cancellationToken).ConfigureAwait(false);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    private async Task ReceiveAsync<T>(string feed, Func<ReadOnlyMemory<byte>, IReadOnlyList<T>> read, Broadcast<T> local, CancellationToken cancellationToken)
    {
        await foreach (var batch in relay.ReceiveAsync(feed, cancellationToken).ConfigureAwait(false))
        {
            IReadOnlyList<T> items;
            try
            {
                items = read(batch);
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
            {
                // A broker of another version, or something else on the subject: its batch is left out.
                Log.FeedBatchUnreadable(logger, feed, ex.Message);
                continue;
            }

            t_receiving = true;
            try
            {
                foreach (var item in items)
                {
                    local.Write(item);
                }
            }
            finally
            {
                t_receiving = false;
            }
        }
    }

    private static void WriteEvent(Utf8JsonWriter writer, HeraldEvent e)
    {
        writer.WriteStartObject();
        writer.WriteString("id", e.Id);
        writer.WriteString("account", e.Account);
        writer.WriteString("workspace", e.Workspace);
        writer.WriteString("sender", e.Sender);
        writer.WriteString("key", e.Key);
        writer.WriteString("subject", e.Subject);
        writer.WritePropertyName("body");
        writer.WriteRawValue(e.Body.Span, skipInputValidation: true);
        writer.WriteString("time", e.Time);
        if (e.TraceParent is not null)
        {
            writer.WriteString("traceParent", e.TraceParent);
        }

        if (e.TraceState is not null)
        {
            writer.WriteString("traceState", e.TraceState);
        }

        writer.WriteEndObject();
    }

    private static List<HeraldEvent> ReadEvents(ReadOnlyMemory<byte> batch)
    {
        using var document = JsonDocument.Parse(batch);
        var list = new List<HeraldEvent>(document.RootElement.GetArrayLength());
        foreach (var e in document.RootElement.EnumerateArray())
        {
            list.Add(new HeraldEvent(
                e.GetProperty("id").GetGuid(),
                e.GetProperty("account").GetString()!,
                e.GetProperty("workspace").GetString()!,
                e.GetProperty("sender").GetString()!,
                e.GetProperty("key").GetString()!,
                e.GetProperty("subject").GetString()!,
                JsonMarshal.GetRawUtf8Value(e.GetProperty("body")).ToArray(),
                e.GetProperty("time").GetDateTimeOffset(),
                e.TryGetProperty("traceParent", out var trace) ? trace.GetString() : null)
            {
                TraceState = e.TryGetProperty("traceState", out var state) ? state.GetString() : null,
            });
        }

        return list;
    }
}
