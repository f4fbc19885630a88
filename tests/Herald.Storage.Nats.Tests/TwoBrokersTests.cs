using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Herald.Broker;
using Herald.Broker.Admin;
using Herald.Storage.Nats.Tests.Fixtures;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Storage.Nats.Tests;

/// <summary>
/// Two brokers on one 3-node cluster, sharing one data folder's keys (as brokers behind one load balancer are
/// configured): an app linked through one receives the events published through the other, and the live feeds read
/// from one show the traffic of both, and a subscription's concurrency holds per broker.
/// </summary>
[Collection(NatsClusterCollection.Name)]
public sealed class TwoBrokersTests(NatsClusterFixture nats) : IAsyncLifetime
{
    private const string Listener = """{"events":{"onSend":{"sender":"vtex.events-example","keys":["send-event"]}}}""";
    private const string SenderService = """{"routes":{"hcheck":{"path":"/_v/app/events-example/hcheck","public":true}}}""";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly NatsStoreFactory _factory = new(nats.ClientUrls, 3);
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("herald-two-brokers-");
    private readonly ConcurrentQueue<string> _received = new();
    private WebApplication? _a;
    private WebApplication? _b;
    private WebApplication? _app;
    private int _slowAtOnce;
    private int _slowMaxAtOnce;
    private int _slowHandled;

    public async Task InitializeAsync()
    {
        _a = await StartBrokerAsync();
        _b = await StartBrokerAsync();
        _app = await StartAppAsync();
    }

    public async Task DisposeAsync()
    {
        foreach (var app in new[] { _app, _b, _a })
        {
            if (app is not null)
            {
                await app.StopAsync();
                await app.DisposeAsync();
            }
        }

        await _factory.DisposeAsync();
        _data.Delete(recursive: true);
    }

    [Fact]
    public async Task ABrokerGivenOtherKeys_DoesNotStart_AndSaysSo_WhileTheOthersGoOn()
    {
        var other = Directory.CreateTempSubdirectory("herald-other-keys-");
        try
        {
            var refused = await Assert.ThrowsAsync<BrokerKeysMismatchException>(() => StartBrokerAsync(other.FullName));
            using var a = Client(_a!);
            using var apps = await a.GetAsync(new Uri("/_herald/v1/acme/dev/apps", UriKind.Relative));

            Assert.Contains($"This broker's keys (broker.key and admin.token in {other.FullName}, fingerprint ", refused.Message, StringComparison.Ordinal);
            Assert.Contains("are not those of the brokers already on its store (fingerprint ", refused.Message, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, apps.StatusCode);
        }
        finally
        {
            other.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task AnAppLinkedThroughBrokerA_ReceivesEventsPublishedThroughBrokerB_WithATokenBrokerAIssued()
    {
        using var a = Client(_a!);
        using var b = Client(_b!);
        var sender = await LinkTutorialAppsAsync(a);

        // B follows the registry through the cluster; until it has seen the link, it does not know the token (401).
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        var elapsed = Stopwatch.StartNew();
        HttpStatusCode status;
        while (true)
        {
            using var publish = new HttpRequestMessage(HttpMethod.Put, "/acme/dev/events/send-event") { Content = new StringContent("""{"n":1}""", Encoding.UTF8, "application/json") };
            publish.Headers.Authorization = new AuthenticationHeaderValue("Bearer", sender.Token);
            publish.Headers.Add("Idempotency-Key", "two-brokers-1");
            using var response = await b.SendAsync(publish);
            status = response.StatusCode;
            if (status == HttpStatusCode.Accepted || elapsed.Elapsed > Patience)
            {
                break;
            }

            await poll.WaitForNextTickAsync();
        }

        Assert.Equal(HttpStatusCode.Accepted, status);
        while (_received.IsEmpty && elapsed.Elapsed < Patience)
        {
            await poll.WaitForNextTickAsync();
        }

        Assert.Equal("""{"n":1}""", Assert.Single(_received));
    }

    [Fact]
    public async Task TailAndActivityReadFromBrokerA_ShowEventsPublishedThroughBrokerB_AndTheirDelivery()
    {
        using var a = Client(_a!);
        using var b = Client(_b!);
        var sender = await LinkTutorialAppsAsync(a);
        using var stop = new CancellationTokenSource(Patience * 2);
        var tail = new ConcurrentQueue<JsonElement>();
        var activity = new ConcurrentQueue<JsonElement>();
        var tailReader = ReadStreamAsync(a, "/acme/dev/events", tail, stop.Token);
        var activityReader = ReadStreamAsync(a, "/_herald/v1/acme/dev/activity", activity, stop.Token);

        // Publish through B until A shows one of B's events in its tail and its publish and delivery (made by
        // whichever broker leased it) in its activity: B learns the link, and A's relay subscribes, in their own time.
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(200));
        var elapsed = Stopwatch.StartNew();
        var published = new List<string>();
        bool Shows(string id, string kind) => activity.Any(e => e.GetProperty("eventId").GetString() == id && e.GetProperty("kind").GetString() == kind);
        bool Tailed(string id) => tail.Any(e => e.GetProperty("id").GetString() == id);
        string? seen = null;
        for (var n = 0; seen is null && elapsed.Elapsed < Patience; n++)
        {
            using var publish = new HttpRequestMessage(HttpMethod.Put, "/acme/dev/events/send-event") { Content = new StringContent($$"""{"n":{{n}}}""", Encoding.UTF8, "application/json") };
            publish.Headers.Authorization = new AuthenticationHeaderValue("Bearer", sender.Token);
            using var response = await b.SendAsync(publish);
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                published.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
            }

            await poll.WaitForNextTickAsync();
            seen = published.FirstOrDefault(id => Tailed(id) && Shows(id, "published") && Shows(id, "delivered"));
        }

        Assert.True(seen is not null,
            $"A did not show any of the {published.Count} events published through B within {Patience.TotalSeconds} s: tailed {published.Count(Tailed)}, published {published.Count(id => Shows(id, "published"))}, delivered {published.Count(id => Shows(id, "delivered"))}.");
        var shown = tail.First(e => e.GetProperty("id").GetString() == seen);
        Assert.Equal("vtex.events-example", shown.GetProperty("sender").GetString());
        Assert.Equal("send-event", shown.GetProperty("key").GetString());
        Assert.Equal(JsonValueKind.Number, shown.GetProperty("body").GetProperty("n").ValueKind);
        await stop.CancelAsync();
        await Task.WhenAll(tailReader, activityReader);
    }

    [Fact]
    public async Task ASubscriptionsConcurrencyHoldsPerBroker_TwoBrokersNeverRunMoreThanTwiceItAtOnce()
    {
        using var a = Client(_a!);
        using var b = Client(_b!);
        await LinkAsync(a, "vtex", "slow-listener", """{"events":{"slow":{"sender":"vtex.events-example","keys":["slow-event"],"delivery":{"concurrency":1}}}}""");
        var subscription = "acme/dev/vtex.slow-listener/slow";
        await Eventually.TrueAsync(async () => (await b.GetFromJsonAsync<AppsResponse>("/_herald/v1/acme/dev/apps", Json))!.Apps.SelectMany(x => x.Subscriptions).Any(s => s.Id == subscription), "broker B to know the subscription", Patience);
        const int Events = 12;
        for (var n = 0; n < Events; n++)
        {
            using var response = await (n % 2 == 0 ? a : b).PostAsync($"/_herald/v1/acme/dev/events/slow-event?sender=vtex.events-example", new StringContent($$"""{"n":{{n}}}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        await Eventually.TrueAsync(() => Task.FromResult(Volatile.Read(ref _slowHandled) >= Events), $"{Events} slow deliveries handled", Patience);
        Assert.InRange(Volatile.Read(ref _slowMaxAtOnce), 1, 2);
    }

    /// <summary>Reads a Server-Sent Events stream's data lines as JSON into <paramref name="into"/> until cancelled.</summary>
    private static async Task ReadStreamAsync(HttpClient broker, string path, ConcurrentQueue<JsonElement> into, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await broker.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal) && line != "data: {}")
                {
                    into.Enqueue(JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone());
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task<WebApplication> StartBrokerAsync(string? dataDirectory = null)
    {
        var builder = HeraldBroker.CreateBuilder(new BrokerOptions { Url = "http://127.0.0.1:0", DataDirectory = dataDirectory ?? _data.FullName });
        builder.Logging.ClearProviders();
        var options = _factory.StoreOptions;
        builder.Services.AddHeraldNatsStore(o =>
        {
            o.Url = options.Url;
            o.Prefix = options.Prefix;
            o.Replicas = options.Replicas;
        });
        var broker = HeraldBroker.Build(builder);
        try
        {
            await broker.StartAsync();
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }

        return broker;
    }

    private async Task<WebApplication> StartAppAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/{account}/{workspace}/_events", async (HttpRequest request) =>
        {
            if (request.Headers["x-event-handler-id"] == "slow")
            {
                // Long enough that both brokers hold a lease of the subscription at once.
                var atOnce = Interlocked.Increment(ref _slowAtOnce);
                InterlockedMax(ref _slowMaxAtOnce, atOnce);
                await Task.Delay(TimeSpan.FromMilliseconds(200));
                Interlocked.Decrement(ref _slowAtOnce);
                Interlocked.Increment(ref _slowHandled);
                return Results.NoContent();
            }

            using var reader = new StreamReader(request.Body);
            _received.Enqueue(await reader.ReadToEndAsync());
            return Results.NoContent();
        });
        await app.StartAsync();
        return app;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen && Interlocked.CompareExchange(ref target, value, seen) is var before && before != seen)
        {
            seen = before;
        }
    }

    private HttpClient Client(WebApplication broker)
    {
        var address = broker.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = new HttpClient { BaseAddress = new Uri(address) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(Path.Combine(_data.FullName, "admin.token")).Trim());
        return client;
    }

    /// <summary>Links the tutorial's two apps through <paramref name="broker"/>; returns the sender's link.</summary>
    private async Task<LinkResponse> LinkTutorialAppsAsync(HttpClient broker)
    {
        await LinkAsync(broker, "vtex", "live-users", Listener);
        return await LinkAsync(broker, "vtex", "events-example", SenderService);
    }

    private async Task<LinkResponse> LinkAsync(HttpClient broker, string vendor, string name, string service)
    {
        var endpoint = _app!.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var response = await broker.PutAsJsonAsync($"/_herald/v1/acme/dev/apps/{vendor}.{name}", new
        {
            manifest = JsonDocument.Parse($$$"""{"vendor":"{{{vendor}}}","name":"{{{name}}}","version":"0.1.0","title":"{{{name}}}","builders":{"dotnet":"1.x"}}""").RootElement,
            service = JsonDocument.Parse(service).RootElement,
            endpoint,
        });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"link failed: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<LinkResponse>(text, Json)!;
    }
}
