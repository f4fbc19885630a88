using System.Globalization;
using System.Net.Http.Headers;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.LoadGen;

/// <summary>
/// The ceiling on this machine: a Kestrel relay with no store and no signing. <c>PUT /{account}/{workspace}/events/{key}</c>
/// answers 202 with a JSON id at once and queues the body for each subscriber; per subscriber a bounded channel and
/// <c>forwardsInFlight</c> consumer tasks <c>POST {subscriber}/{account}/{workspace}/_events</c> with the body, an
/// x-event-time header (the publish time, ISO-8601 "O") and an x-event-id header. The subscribers are minimal Kestrel
/// endpoints that record the latency and answer 204. Everything runs in this process.
/// </summary>
internal sealed class RelayTarget(int forwardsInFlight, int queueCapacity = RelayTarget.DefaultQueueCapacity) : ILoadTarget
{
    /// <summary>Each subscriber's queue of forwards; when full, a publish waits for room. <value>65,536</value></summary>
    public const int DefaultQueueCapacity = 65_536;

    /// <summary>Attempts per forward before it is counted as failed.</summary>
    private const int ForwardAttempts = 3;

    private readonly List<WebApplication> _apps = [];
    private readonly List<Channel<Forward>> _queues = [];
    private readonly List<Task> _forwarders = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
    private long _failedForwards;

    public async Task<PublishTarget> StartAsync(int subscribers, DeliveryRecorder recorder, CancellationToken cancellationToken)
    {
        var workspace = "load-" + Guid.NewGuid().ToString("N")[..8];
        var subscriberUrls = new List<Uri>();
        for (var i = 0; i < subscribers; i++)
        {
            var subscriber = i;
            var app = CreateApp();
            app.MapPost("/{account}/{workspace}/_events", async (HttpContext context) =>
            {
                await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
                var time = DateTimeOffset.Parse(context.Request.Headers["x-event-time"].ToString(), CultureInfo.InvariantCulture);
                recorder.Record(subscriber, context.Request.Headers["x-event-id"].ToString(), time);
                return Results.NoContent();
            });
            _apps.Add(app);
            await app.StartAsync(cancellationToken);
            subscriberUrls.Add(new Uri(LoadRun.Address(app)));
        }

        foreach (var url in subscriberUrls)
        {
            var queue = Channel.CreateBounded<Forward>(new BoundedChannelOptions(queueCapacity) { FullMode = BoundedChannelFullMode.Wait });
            _queues.Add(queue);
            for (var c = 0; c < forwardsInFlight; c++)
            {
                _forwarders.Add(ForwardAsync(queue.Reader, url, _stopping.Token));
            }
        }

        var relay = CreateApp();
        relay.MapPut("/{account}/{workspace}/events/{key}", async (string account, string workspace, HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            var forward = new Forward(account, workspace, Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture), body.ToArray());
            foreach (var queue in _queues)
            {
                await queue.Writer.WriteAsync(forward, context.RequestAborted);
            }

            return Results.Json(new { id = forward.Id }, statusCode: StatusCodes.Status202Accepted);
        });
        _apps.Add(relay);
        await relay.StartAsync(cancellationToken);
        var relayUrl = LoadRun.Address(relay);
        return new PublishTarget(new Uri(relayUrl), workspace, null, $"the relay at {relayUrl} ({LoadRun.Account}/{workspace}, no store, {forwardsInFlight} forwards in flight per subscriber)");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        await _stopping.CancelAsync();
        try
        {
            await Task.WhenAll(_forwarders);
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var app in _apps)
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }

        var failed = Interlocked.Read(ref _failedForwards);
        if (failed > 0)
        {
            await Console.Error.WriteLineAsync($"relay: {failed} forwards failed after {ForwardAttempts} attempts.");
        }

        _http.Dispose();
        _stopping.Dispose();
    }

    private static WebApplication CreateApp()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        return builder.Build();
    }

    private async Task ForwardAsync(ChannelReader<Forward> queue, Uri subscriber, CancellationToken cancellationToken)
    {
        await foreach (var forward in queue.ReadAllAsync(cancellationToken))
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(subscriber, $"/{forward.Account}/{forward.Workspace}/_events"))
                    {
                        Content = new ByteArrayContent(forward.Body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
                    };
                    request.Headers.Add("x-event-time", forward.Time);
                    request.Headers.Add("x-event-id", forward.Id);
                    using var response = await _http.SendAsync(request, cancellationToken);
                    if (response.IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }

                if (attempt == ForwardAttempts)
                {
                    Interlocked.Increment(ref _failedForwards);
                    break;
                }
            }
        }
    }

    private sealed record Forward(string Account, string Workspace, string Id, string Time, byte[] Body);
}
