using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Herald.LoadGen;

/// <summary>
/// The peer: MassTransit 8.5 over RabbitMQ doing the same publish-to-handler work. A Kestrel front takes the same
/// <c>PUT /{account}/{workspace}/events/{key}</c>, publishes a <see cref="LoadEvent"/> through its own bus with
/// publisher confirms (persistent, as MassTransit publishes by default) and answers 202 with the id once RabbitMQ has
/// confirmed it. S subscribers, each its own bus (own connection, like S apps) with one receive endpoint: a durable
/// queue (classic, or quorum with <c>SetQuorumQueue()</c>) bound through the message type's fanout exchange, so every
/// event reaches every queue; PrefetchCount and ConcurrentMessageLimit both <c>concurrency</c>. Latency is from the
/// front's publish time carried in the message to the consumer's call. Every queue and exchange is named after this
/// run and deleted at the end.
/// </summary>
internal sealed class MassTransitTarget(Uri amqp, bool quorum, int concurrency) : ILoadTarget
{
    /// <summary>RabbitMQ's default node on loopback, as guest (allowed from loopback only).</summary>
    public const string DefaultAmqp = "amqp://guest:guest@127.0.0.1:5672/";

    private readonly string _run = "herald-bench-" + Guid.NewGuid().ToString("N")[..8];
    private readonly List<IBusControl> _buses = [];
    private readonly List<string> _queues = [];
    private WebApplication? _front;
    private bool _reached;

    private string MessageExchange => _run + "-load-event";

    public async Task<PublishTarget> StartAsync(int subscribers, DeliveryRecorder recorder, CancellationToken cancellationToken)
    {
        // MassTransit retries an unreachable broker until cancelled; say so at once instead.
        try
        {
            await using var probe = await new ConnectionFactory { Uri = WithCredentials(amqp) }.CreateConnectionAsync(cancellationToken);
            _reached = true;
        }
        catch (BrokerUnreachableException e)
        {
            throw new LoadSetupException($"RabbitMQ is not reachable at {amqp.Host}:{amqp.Port} ({e.InnerException?.Message ?? e.Message}). Start one (bench/compare.sh starts its own) or give --amqp.");
        }

        // Subscribers first: their queues and bindings exist before the first publish, so none is dropped unrouted.
        for (var i = 0; i < subscribers; i++)
        {
            var subscriber = i;
            var queue = $"{_run}-s{i}";
            _queues.Add(queue);
            var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
            {
                Configure(cfg);
                cfg.ReceiveEndpoint(queue, e =>
                {
                    e.PrefetchCount = concurrency;
                    e.ConcurrentMessageLimit = concurrency;
                    if (quorum)
                    {
                        e.SetQuorumQueue();
                    }

                    e.Consumer(() => new LoadEventConsumer(subscriber, recorder));
                });
            });
            await StartAsync(bus, cancellationToken);
        }

        var front = Bus.Factory.CreateUsingRabbitMq(Configure);
        await StartAsync(front, cancellationToken);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _front = builder.Build();
        _front.MapPut("/{account}/{workspace}/events/{key}", async (string account, string workspace, string key, HttpContext context) =>
        {
            var time = DateTimeOffset.UtcNow;
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            var id = NewId.NextGuid().ToString("N");
            await front.Publish(new LoadEvent(id, time, account, workspace, key, body.RootElement.Clone()), context.RequestAborted);
            return Results.Json(new { id }, statusCode: StatusCodes.Status202Accepted);
        });
        await _front.StartAsync(cancellationToken);
        var url = LoadRun.Address(_front);
        var workspace = "load-" + Guid.NewGuid().ToString("N")[..8];
        return new PublishTarget(new Uri(url), workspace, null,
            $"the MassTransit front at {url} ({LoadRun.Account}/{workspace}; RabbitMQ {amqp.Host}:{amqp.Port}, {(quorum ? "quorum" : "classic")} queues {_run}-s*, prefetch and concurrency {concurrency}, publisher confirms)");
    }

    public async ValueTask DisposeAsync()
    {
        if (_front is not null)
        {
            await _front.StopAsync(CancellationToken.None);
            await _front.DisposeAsync();
        }

        foreach (var bus in _buses)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await bus.StopAsync(stop.Token);
        }

        if (_reached)
        {
            try
            {
                await DeleteTopologyAsync();
            }
            catch (Exception e) when (e is BrokerUnreachableException or OperationInterruptedException or OperationCanceledException)
            {
                await Console.Error.WriteLineAsync($"masstransit: could not delete this run's queues and exchanges ({_run}-*): {e.Message}");
            }
        }
    }

    private void Configure(IRabbitMqBusFactoryConfigurator cfg)
    {
        var user = Uri.UnescapeDataString(amqp.UserInfo.Split(':')[0]);
        var password = amqp.UserInfo.Contains(':', StringComparison.Ordinal) ? Uri.UnescapeDataString(amqp.UserInfo[(amqp.UserInfo.IndexOf(':', StringComparison.Ordinal) + 1)..]) : "";
        var virtualHost = amqp.AbsolutePath.Length > 1 ? Uri.UnescapeDataString(amqp.AbsolutePath[1..]) : "/";
        cfg.Host(amqp.Host, (ushort)(amqp.IsDefaultPort ? 5672 : amqp.Port), virtualHost, h =>
        {
            h.Username(user.Length > 0 ? user : "guest");
            h.Password(user.Length > 0 ? password : "guest");
            h.PublisherConfirmation = true;
        });
        cfg.Message<LoadEvent>(m => m.SetEntityName(MessageExchange));
    }

    private async Task StartAsync(IBusControl bus, CancellationToken cancellationToken)
    {
        _buses.Add(bus);
        var handle = await bus.StartAsync(cancellationToken);
        await handle.Ready.WaitAsync(cancellationToken);
    }

    /// <summary>The run's queues, their endpoint exchanges and the message type's exchange (the bus's own temporary queues delete themselves).</summary>
    private async Task DeleteTopologyAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ct = timeout.Token;
        var factory = new ConnectionFactory { Uri = WithCredentials(amqp) };
        await using var connection = await factory.CreateConnectionAsync(ct);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: ct);
        foreach (var queue in _queues)
        {
            await channel.QueueDeleteAsync(queue, ifUnused: false, ifEmpty: false, cancellationToken: ct);
            await channel.ExchangeDeleteAsync(queue, ifUnused: false, cancellationToken: ct);
        }

        await channel.ExchangeDeleteAsync(MessageExchange, ifUnused: false, cancellationToken: ct);
    }

    private static Uri WithCredentials(Uri uri) =>
        uri.UserInfo.Length > 0 ? uri : new UriBuilder(uri) { UserName = "guest", Password = "guest" }.Uri;
}

/// <summary>The event as the front publishes it: its id, publish time, address and body.</summary>
public sealed record LoadEvent(string Id, DateTimeOffset Time, string Account, string Workspace, string Key, JsonElement Body);

/// <summary>One subscriber's handler: records the publish→handler latency.</summary>
internal sealed class LoadEventConsumer(int subscriber, DeliveryRecorder recorder) : IConsumer<LoadEvent>
{
    public Task Consume(ConsumeContext<LoadEvent> context)
    {
        recorder.Record(subscriber, context.Message.Id, context.Message.Time);
        return Task.CompletedTask;
    }
}
