using Herald.Broker;
using Herald.Storage.Nats;
using Herald.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Herald.LoadGen;

/// <summary>
/// Herald: its own broker in this process (SQLite store in a temp folder, or a NATS cluster with --store) unless given a running broker's URL, S
/// subscriber apps built with Herald's SDK (in this process, each subscribed to every event with the given delivery
/// concurrency) and a publisher app whose token the driver publishes with. Latency is from the broker's x-event-time.
/// </summary>
internal sealed class HeraldTarget(string? broker, string? adminToken, string? dataDirectory, int deliveryConcurrency, string store = "sqlite", int replicas = 1) : ILoadTarget
{
    private readonly List<WebApplication> _apps = [];
    private WebApplication? _ownBroker;
    private string? _tempData;
    private string? _tempApps;

    public async Task<PublishTarget> StartAsync(int subscribers, DeliveryRecorder recorder, CancellationToken cancellationToken)
    {
        var workspace = "load-" + Guid.NewGuid().ToString("N")[..8];
        var brokerUrl = broker;
        var token = adminToken;
        if (brokerUrl is null)
        {
            _tempData = Directory.CreateTempSubdirectory("herald-load-").FullName;
            // The per-app publish limit (5,000/s by default) would refuse part of a run faster than that; this measures
            // the delivery core, so the limit is set out of reach.
            var options = new BrokerOptions { Url = "http://127.0.0.1:0", DataDirectory = _tempData, PublishPermitsPerSecond = 1_000_000, PublishBurst = 1_000_000 };
            var builder = HeraldBroker.CreateBuilder(options);
            builder.Logging.ClearProviders();
            if (store == "sqlite")
            {
                builder.Services.AddHeraldSqliteStore(Path.Combine(_tempData, "herald.db"));
            }
            else
            {
                // A prefix of its own, so runs on one cluster never see each other's streams.
                builder.Services.AddHeraldNatsStore(o =>
                {
                    o.Url = store;
                    o.Replicas = replicas;
                    o.Prefix = "load-" + workspace[5..];
                });
            }
            _ownBroker = HeraldBroker.Build(builder);
            await _ownBroker.StartAsync(cancellationToken);
            brokerUrl = LoadRun.Address(_ownBroker);
            token = (await File.ReadAllTextAsync(Path.Combine(_tempData, "admin.token"), cancellationToken)).Trim();
        }
        else
        {
            token ??= dataDirectory is { } dir ? (await File.ReadAllTextAsync(Path.Combine(dir, "admin.token"), cancellationToken)).Trim() : null;
            if (token is null)
            {
                throw new LoadSetupException("With --broker, give --admin-token or --data (the broker's data folder).");
            }
        }

        _tempApps = Directory.CreateTempSubdirectory("herald-load-apps-").FullName;
        using var admin = new HttpClient { BaseAddress = new Uri(brokerUrl) };
        for (var i = 0; i < subscribers; i++)
        {
            var subscriber = i;
            _apps.Add(await LoadRun.StartSubscriberAsync(admin, token, brokerUrl, workspace, $"subscriber{i}", new { concurrency = deliveryConcurrency }, context =>
            {
                recorder.Record(subscriber, context.EventId, context.Time!.Value);
                return Task.CompletedTask;
            }, _tempApps, cancellationToken));
        }

        var publisherToken = (await LoadRun.LinkAsync(admin, token, workspace, "load.publisher", "{}", "http://127.0.0.1:9", cancellationToken)).Token;
        return new PublishTarget(new Uri(brokerUrl), workspace, publisherToken, $"{brokerUrl} ({LoadRun.Account}/{workspace})");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }

        if (_ownBroker is not null)
        {
            await _ownBroker.StopAsync(CancellationToken.None);
            await _ownBroker.DisposeAsync();
        }

        if (_tempApps is not null)
        {
            Directory.Delete(_tempApps, recursive: true);
        }

        if (_tempData is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_tempData, recursive: true);
        }
    }
}
