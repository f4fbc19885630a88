using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Herald.Broker.Admin;
using Herald.Storage.Nats.Tests.Fixtures;

namespace Herald.EndToEnd.Tests.Security;

/// <summary>Every attack class shares one broker and one victim: tests run one after another and each checks its own before/after.</summary>
[CollectionDefinition(Name)]
public sealed class SecuritySuite : ICollectionFixture<SecurityFixture>
{
    public const string Name = "Security";
}

/// <summary>The same attacks against a broker on the NATS JetStream store (one real <c>nats-server</c>).</summary>
[CollectionDefinition(Name)]
public sealed class NatsSecuritySuite : ICollectionFixture<NatsSecurityFixture>
{
    public const string Name = "Security on NATS";
}

/// <summary>The security fixture with its broker on a JetStream store: <c>herald up --store nats://...</c>.</summary>
public sealed class NatsSecurityFixture : SecurityFixture
{
    private NatsServerProcess? _nats;

    protected override async Task<BrokerProcess> StartBrokerAsync()
    {
        _nats = new NatsServerProcess("security");
        await _nats.StartAsync();
        return await BrokerProcess.StartAsync("--store", _nats.ClientUrl);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }
    }
}

/// <summary>
/// One real broker (<c>herald up</c>) and, around it, a victim and its attackers:
/// <list type="bullet">
/// <item><c>acme/victim</c> (B): the test subscriber (a real process), <c>vtex.events-example</c> (a sender), <c>evil.spoofer</c>
/// (an app of B that tries to pass for another sender) and <c>victim.private</c>, which declares a non-public route served by
/// the subscriber's endpoint.</item>
/// <item><c>acme/attacker</c> (A): <c>evil.attacker</c>, whose subscription to <c>dead-key</c> points at a closed port with no
/// retries, so A can own a dead letter.</item>
/// <item><c>other/master</c>: <c>evil.foreign</c>, an app of another account.</item>
/// </list>
/// </summary>
public class SecurityFixture : IAsyncLifetime
{
    public const string Account = "acme";
    public const string Victim = "victim";
    public const string Attacker = "attacker";
    public const string OtherAccount = "other";
    public const string OtherWorkspace = "master";

    public const string SubscriberApp = "test.subscriber";
    public const string VictimSender = "vtex.events-example";
    public const string Spoofer = "evil.spoofer";
    public const string AttackerApp = "evil.attacker";
    public const string ForeignApp = "evil.foreign";
    public const string PrivateApp = "victim.private";
    public const string PrivatePath = "/_v/private/secret";
    public const string DeadKey = "dead-key";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public BrokerProcess Broker { get; private set; } = null!;

    public AppProcess Subscriber { get; private set; } = null!;

    public string VictimToken { get; private set; } = null!;

    public string SpooferToken { get; private set; } = null!;

    public string AttackerToken { get; private set; } = null!;

    public string ForeignToken { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Broker = await StartBrokerAsync();
        Subscriber = await AppProcess.StartAsync(Broker, Repo.TestSubscriberFolder, Account, Victim);
        VictimToken = (await LinkAsync(Account, Victim, VictimSender, "{}")).Token;
        SpooferToken = (await LinkAsync(Account, Victim, Spoofer, "{}")).Token;
        await LinkAsync(Account, Victim, PrivateApp, "{\"routes\":{\"secret\":{\"path\":\"" + PrivatePath + "\",\"public\":false}}}", Subscriber.Endpoint.ToString().TrimEnd('/'));
        AttackerToken = (await LinkAsync(Account, Attacker, AttackerApp,
            """{"events":{"sink":{"keys":["dead-key"],"delivery":{"retries":0,"timeout":1000}}}}""",
            $"http://127.0.0.1:{AppProcess.FreePort()}")).Token;
        ForeignToken = (await LinkAsync(OtherAccount, OtherWorkspace, ForeignApp, "{}")).Token;
    }

    /// <summary>Starts the broker under attack: <c>herald up</c> on the embedded store.</summary>
    protected virtual Task<BrokerProcess> StartBrokerAsync() => BrokerProcess.StartAsync();

    public virtual async Task DisposeAsync()
    {
        if (Subscriber is not null)
        {
            await Subscriber.DisposeAsync();
        }

        if (Broker is not null)
        {
            await Broker.DisposeAsync();
        }
    }

    /// <summary>Links an app through the admin API (nothing runs at its endpoint unless the caller says so).</summary>
    public Task<LinkResponse> LinkAsync(string account, string workspace, string app, string serviceJson, string endpoint = "http://127.0.0.1:9")
    {
        var dot = app.IndexOf('.', StringComparison.Ordinal);
        var manifest = JsonDocument.Parse($$"""{"vendor":"{{app[..dot]}}","name":"{{app[(dot + 1)..]}}","version":"0.1.0"}""").RootElement;
        return Broker.AdminAsync<LinkResponse>(HttpMethod.Put, $"/_herald/v1/{account}/{workspace}/apps/{app}",
            new LinkRequest(manifest, JsonDocument.Parse(serviceJson).RootElement, endpoint));
    }

    /// <summary>A request to the broker with a bearer token (none when <paramref name="token"/> is null).</summary>
    public static HttpRequestMessage Request(HttpMethod method, string path, string? token, string? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return request;
    }

    /// <summary>Sends a request to the broker; answers the status and body.</summary>
    public async Task<(int Status, string Body)> SendAsync(HttpRequestMessage request)
    {
        using (request)
        {
            using var response = await Broker.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var text = response.Content.Headers.ContentType?.MediaType == "text/event-stream" ? "(event stream)" : await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, text);
        }
    }

    /// <summary>Publishes on the app route with a token.</summary>
    public Task<(int Status, string Body)> PublishAsync(string token, string account, string workspace, string key, string body) =>
        SendAsync(Request(HttpMethod.Put, $"/{account}/{workspace}/events/{key}", token, body));

    /// <summary>
    /// What the broker holds for a workspace once nothing is pending or in flight: every app (endpoint, link time, routes),
    /// every subscription's counts, and every dead letter (id, event, reason, attempts). Two equal snapshots mean nothing changed.
    /// </summary>
    public async Task<string> SnapshotAsync(string account, string workspace)
    {
        var apps = await Eventually.ReturnsAsync(
            () => Broker.AdminAsync<AppsResponse>(HttpMethod.Get, $"/_herald/v1/{account}/{workspace}/apps"),
            a => a.Apps.SelectMany(x => x.Subscriptions).All(s => s.Pending + s.InFlight == 0),
            $"{account}/{workspace} settled");
        var dead = await Broker.AdminAsync<DeadLettersResponse>(HttpMethod.Get, $"/_herald/v1/{account}/{workspace}/deadletters?limit=1000");
        return JsonSerializer.Serialize(new
        {
            apps = apps.Apps.Select(a => new { a.App, a.Endpoint, a.LinkedAt, a.Subscriptions, Routes = a.Routes.Select(r => r.Path) }),
            dead = dead.DeadLetters.Select(d => new { d.Id, d.EventId, d.SubscriptionId, d.Reason, d.Sender, Attempts = d.Attempts.Count }),
        }, Json);
    }

    /// <summary>
    /// Proves a quiet period held nothing for B: publishes a marker event as B's own sender and waits until the subscriber and
    /// <paramref name="tail"/> saw it; the marker must then be the only thing either saw since <paramref name="recordsBefore"/>.
    /// </summary>
    public async Task AssertOnlyMarkerReachedVictimAsync(SseTail tail, int recordsBefore)
    {
        var marker = Guid.NewGuid().ToString("N");
        var (status, body) = await PublishAsync(VictimToken, Account, Victim, "test-event", $$"""{"marker":"{{marker}}"}""");
        Assert.True(status == 202, $"marker publish: {status} {body}");
        bool IsMarker(JsonElement e) => e.TryGetProperty("body", out var b) && b.ValueKind == JsonValueKind.Object
            && b.TryGetProperty("marker", out var m) && m.GetString() == marker;
        await Eventually.TrueAsync(() => Subscriber.Records().Skip(recordsBefore).Any(IsMarker), "the marker handled by the subscriber", TimeSpan.FromSeconds(20));
        await Eventually.TrueAsync(() => tail.Events.Any(IsMarker), "the marker on the tail", TimeSpan.FromSeconds(20));
        var records = Subscriber.Records().Skip(recordsBefore).ToList();
        Assert.True(records.Count == 1 && IsMarker(records[0]), "the subscriber handled more than the marker: " + string.Join(" | ", records));
        var events = tail.Events.ToList();
        Assert.True(events.Count == 1 && IsMarker(events[0]), "the tail of B showed more than the marker: " + string.Join(" | ", events));
        Assert.Equal(VictimSender, events[0].GetProperty("sender").GetString());
    }
}
