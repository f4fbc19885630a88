using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Herald.Storage.Nats.Tests.Fixtures;
using Xunit.Abstractions;

namespace Herald.EndToEnd.Tests;

/// <summary>
/// Brokers (<c>herald up --store nats://...</c>, real processes) on a real 3-node R3 cluster, with faults under load:
/// a broker killed with SIGKILL, a NATS node killed and restarted, and quorum lost and regained. In each, every
/// event answered 202 is handled by the test subscriber (a real process); duplicates are counted, never a loss.
/// </summary>
public sealed class ClusterFaultLoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Events = 20_000;
    private const string Account = "load";
    private const string Workspace = "dev";
    private const string SubscriptionId = $"{Account}/{Workspace}/test.subscriber/fromExample";
    private static readonly TimeSpan HandledDeadline = TimeSpan.FromMinutes(4);

    private readonly NatsCluster _cluster = new("herald-e2e");
    private readonly List<BrokerProcess> _brokers = [];
    private readonly List<AppProcess> _apps = [];

    public Task InitializeAsync() => _cluster.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var app in _apps)
        {
            await app.DisposeAsync();
        }

        foreach (var broker in _brokers)
        {
            await broker.DisposeAsync();
        }

        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task OneOfTwoBrokersKilledUnderLoad_TheOtherFinishesTheWork_LosingNothing()
    {
        var a = await StartBrokerAsync(null);
        var b = await StartBrokerAsync(a);
        var app = await StartSubscriberAsync(a);
        // B follows the registry through the cluster; until it has the subscription it would route events to nobody.
        await Eventually.ReturnsAsync(() => KnowsSubscriptionAsync(b), known => known, "broker B to know the subscription linked through A");

        var load = new Load(Events, [a, b]);
        var publishing = load.RunAsync();
        await Eventually.TrueAsync(() => load.Accepted.Count >= Events / 3, $"{Events / 3} events accepted before the kill", TimeSpan.FromMinutes(2));
        load.Retire(a);
        await a.KillAsync();
        await publishing;

        await AssertEveryAcceptedEventHandledAsync(app, load, b, $"through two brokers, one killed with SIGKILL at {Events / 3}");
    }

    [Fact]
    public async Task ANatsNodeKilledUnderLoadAndRestarted_EveryAcceptedEventIsHandled()
    {
        var broker = await StartBrokerAsync(null);
        var app = await StartSubscriberAsync(broker);
        var load = new Load(Events, [broker]);
        var publishing = load.RunAsync();
        var node = _cluster.Nodes[0];
        await Eventually.TrueAsync(() => load.Accepted.Count >= Events / 3, $"{Events / 3} events accepted before the kill", TimeSpan.FromMinutes(2));
        await node.KillAsync();
        await Eventually.TrueAsync(() => load.Accepted.Count >= 2 * Events / 3, $"{2 * Events / 3} events accepted with {node.ServerName} down", TimeSpan.FromMinutes(2));
        await node.StartAsync();
        await publishing;

        await AssertEveryAcceptedEventHandledAsync(app, load, broker, $"with NATS node {node.ServerName} killed at {Events / 3} and restarted at {2 * Events / 3}");
    }

    [Fact]
    public async Task TwoOfThreeNodesStopped_PublishesGet503AndNothingUnconfirmedIsAccepted_DeliveryResumesWithQuorum()
    {
        var broker = await StartBrokerAsync(null);
        var app = await StartSubscriberAsync(broker);
        using var client = new HttpClient { BaseAddress = broker.Url, Timeout = TimeSpan.FromSeconds(30) };
        var before = await broker.SendAsync(Account, Workspace, "vtex.events-example", "send-event", """{"n":"before"}""");
        await Eventually.TrueAsync(() => Handled(app).Contains(before.Id), "the event published before the outage handled");

        await Task.WhenAll(_cluster.Nodes[1].KillAsync(), _cluster.Nodes[2].KillAsync());
        const int During = 20;
        var statuses = new List<(HttpStatusCode Status, string Body)>();
        for (var n = 0; n < During; n++)
        {
            statuses.Add(await PublishAsync(client, broker, n));
        }

        // Without a quorum nothing can be committed, so nothing may be answered 202; the answer says to resend.
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.ServiceUnavailable, s.Status));
        Assert.Contains(statuses, s => s.Body.Contains("Idempotency-Key", StringComparison.Ordinal));

        await Task.WhenAll(_cluster.Nodes[1].StartAsync(), _cluster.Nodes[2].StartAsync());
        await _cluster.WaitForMetaLeaderAsync();
        // The same publishes, sent again with the same keys until the cluster takes them.
        var ids = new string[During];
        for (var n = 0; n < During; n++)
        {
            var current = n;
            var (_, body) = await Eventually.ReturnsAsync(() => PublishAsync(client, broker, current), s => s.Status == HttpStatusCode.Accepted, $"publish {n} accepted after quorum returned");
            ids[n] = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        }

        await WithDiagnosticsAsync(broker, app, Eventually.TrueAsync(() => Handled(app).IsSupersetOf(ids), "every resent event handled after quorum returned", HandledDeadline));
        // However many times each was sent, each key made one event, handled once per event.
        var bodies = app.Records().Where(r => r.GetProperty("outcome").ToString() == "204" && r.GetProperty("body").GetProperty("n").ValueKind == JsonValueKind.Number)
            .Select(r => (N: r.GetProperty("body").GetProperty("n").GetInt32(), Id: r.GetProperty("eventId").GetString()!)).Distinct().ToList();
        Assert.Equal(Enumerable.Range(0, During), bodies.Select(b => b.N).Order());
        Assert.Equal(ids.Order(StringComparer.Ordinal), bodies.Select(b => b.Id).Order(StringComparer.Ordinal));
    }

    private static async Task<(HttpStatusCode Status, string Body)> PublishAsync(HttpClient client, BrokerProcess broker, int n)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/_herald/v1/{Account}/{Workspace}/events/send-event?sender=vtex.events-example")
        {
            Content = new StringContent($$"""{"n":{{n}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", broker.AdminToken);
        request.Headers.Add("Idempotency-Key", "quorum-" + n);
        using var response = await client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Waits for <paramref name="wait"/>; when it times out, fails with what the broker knows of the subscription and
    /// the last lines of the broker's and the app's logs, so a failed run says where the deliveries stopped.
    /// </summary>
    private async Task WithDiagnosticsAsync(BrokerProcess broker, AppProcess app, Task wait)
    {
        try
        {
            await wait;
        }
        catch (TimeoutException timeout)
        {
            string counts;
            try
            {
                var s = await broker.SubscriptionAsync(Account, Workspace, SubscriptionId);
                counts = $"pending {s.Pending}, in flight {s.InFlight}, delivered {s.Delivered}, dead {s.Dead}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException)
            {
                counts = "unknown (" + e.Message + ")";
            }

            var report = $"{timeout.Message}\nThe broker's subscription {SubscriptionId}: {counts}.\n"
                + $"Broker log (last 60 lines):\n{string.Join('\n', broker.Process.Lines.TakeLast(60))}\n"
                + $"App log (last 20 lines):\n{string.Join('\n', app.Process.Lines.TakeLast(20))}";
            output.WriteLine(report);
            throw new TimeoutException(report, timeout);
        }
    }

    private async Task<BrokerProcess> StartBrokerAsync(BrokerProcess? keysOf)
    {
        var broker = await BrokerProcess.StartAsync(keysOf, "--store", _cluster.ClientUrls);
        _brokers.Add(broker);
        return broker;
    }

    private async Task<AppProcess> StartSubscriberAsync(BrokerProcess broker)
    {
        var app = await AppProcess.StartAsync(broker, Repo.TestSubscriberFolder, Account, Workspace);
        _apps.Add(app);
        return app;
    }

    private static async Task<bool> KnowsSubscriptionAsync(BrokerProcess broker)
    {
        var apps = await broker.AdminAsync<Herald.Broker.Admin.AppsResponse>(HttpMethod.Get, $"/_herald/v1/{Account}/{Workspace}/apps");
        return apps.Apps.SelectMany(a => a.Subscriptions).Any(s => s.Id == SubscriptionId);
    }

    private static HashSet<string> Handled(AppProcess app) =>
        app.Records().Where(r => r.GetProperty("outcome").ToString() == "204").Select(r => r.GetProperty("eventId").GetString()!).ToHashSet();

    /// <summary>Every event of the load was accepted, and every accepted one is handled (duplicates counted), none dead.</summary>
    private async Task AssertEveryAcceptedEventHandledAsync(AppProcess app, Load load, BrokerProcess broker, string fault)
    {
        Assert.Equal(Events, load.Accepted.Count);
        var handled = await Eventually.ReturnsAsync(
            () => Task.FromResult(app.Records().Where(r => r.GetProperty("outcome").ToString() == "204").Select(r => r.GetProperty("eventId").GetString()!).ToList()),
            ids => ids.ToHashSet().IsSupersetOf(load.Accepted.Keys),
            "every accepted event handled",
            HandledDeadline);
        var distinct = handled.Distinct().Count();
        output.WriteLine($"{Events} events accepted {fault}: {distinct} handled, {handled.Count - distinct} more than once; {load.Refused} publishes answered other than 202 and sent again.");
        Assert.Equal(0, (await broker.SubscriptionAsync(Account, Workspace, SubscriptionId)).Dead);
    }

    /// <summary>
    /// 16 publishers sending <c>count</c> events, each with its own Idempotency-Key, spread over the brokers still in
    /// service, like a load balancer; a publish not answered 202 (a broker killed, a node down) is sent again, to the
    /// next broker, until it is.
    /// </summary>
    private sealed class Load(int count, IReadOnlyList<BrokerProcess> brokers)
    {
        private readonly ConcurrentDictionary<BrokerProcess, byte> _retired = new();
        private readonly Dictionary<BrokerProcess, HttpClient> _clients = brokers.ToDictionary(b => b, b => new HttpClient { BaseAddress = b.Url, Timeout = TimeSpan.FromSeconds(10) });
        private int _next = -1;
        private int _refused;

        public ConcurrentDictionary<string, byte> Accepted { get; } = new();

        public int Refused => Volatile.Read(ref _refused);

        /// <summary>Takes a broker out of service before it is killed: publishes go to the others from now on.</summary>
        public void Retire(BrokerProcess broker) => _retired[broker] = 0;

        public async Task RunAsync()
        {
            try
            {
                await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(PublishAllAsync)));
            }
            finally
            {
                foreach (var client in _clients.Values)
                {
                    client.Dispose();
                }
            }
        }

        private async Task PublishAllAsync()
        {
            int n;
            while ((n = Interlocked.Increment(ref _next)) < count)
            {
                var current = n;
                var tries = 0;
                await Eventually.ReturnsAsync(() => TryPublishAsync(current, tries++), ok => ok, $"event {current} to be accepted", TimeSpan.FromMinutes(3));
            }
        }

        private async Task<bool> TryPublishAsync(int n, int attempt)
        {
            var inService = brokers.Where(b => !_retired.ContainsKey(b)).ToList();
            var broker = inService[(n + attempt) % inService.Count];
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/_herald/v1/{Account}/{Workspace}/events/send-event?sender=vtex.events-example")
            {
                Content = new StringContent($$"""{"n":{{n}}}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", broker.AdminToken);
            request.Headers.Add("Idempotency-Key", "cluster-load-" + n);
            try
            {
                using var response = await _clients[broker].SendAsync(request);
                if (response.StatusCode != HttpStatusCode.Accepted)
                {
                    Interlocked.Increment(ref _refused);
                    return false;
                }

                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                Accepted.TryAdd(body.RootElement.GetProperty("id").GetString()!, 0);
                return true;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // The broker went away mid-request: the same publish is sent again.
                Interlocked.Increment(ref _refused);
                return false;
            }
        }
    }
}
