using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Herald.EndToEnd.Tests;

/// <summary>
/// A VTEX IO node app (tests/apps/node-app: TypeScript on the real @vtex/api 6.51.3 from npm) linked with
/// <c>herald link</c> in the workspace of a .NET app (the test subscriber): its routes answer through the broker's
/// router, and the two apps exchange events both ways.
/// </summary>
public sealed class NodeAppLinkTests : IClassFixture<NodeAppLinkTests.LinkedApps>
{
    private readonly LinkedApps _apps;

    public NodeAppLinkTests(LinkedApps apps) => _apps = apps;

    [Fact]
    public async Task PublicRoute_AnswersThroughTheRouter_WithItsPathParameters()
    {
        var hello = await _apps.Broker.Client.GetStringAsync("/local/dev/_v/node-app/hello/ada%20lovelace");

        Assert.Equal("hello ada lovelace from test.node-app@0.1.0 in local/dev", hello);
    }

    [Fact]
    public async Task PrivateRoute_AnswersWithAToken_AndSeesTheContextVtexIoGives()
    {
        using (var anonymous = await _apps.Broker.Client.GetAsync("/local/dev/_v/node-app/private/whoami"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        using var request = _apps.Broker.Admin(HttpMethod.Get, "/local/dev/_v/node-app/private/whoami");
        using var response = await _apps.Broker.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.IsSuccessStatusCode, text);
        using var whoami = JsonDocument.Parse(text);
        Assert.Equal("local", whoami.RootElement.GetProperty("account").GetString());
        Assert.Equal("dev", whoami.RootElement.GetProperty("workspace").GetString());
        Assert.False(whoami.RootElement.GetProperty("production").GetBoolean());
        Assert.Equal("aws-us-east-1", whoami.RootElement.GetProperty("region").GetString());
        Assert.Equal("whoami", whoami.RootElement.GetProperty("route").GetString());
    }

    [Fact]
    public async Task ItsEventsClient_FiresAnEvent_TheDotnetAppHandles()
    {
        var id = Guid.NewGuid().ToString("N");

        using var fired = await _apps.Broker.Client.PostAsync($"/local/dev/_v/node-app/fire?id={id}", null);

        Assert.Equal(HttpStatusCode.NoContent, fired.StatusCode);
        var record = await Eventually.ReturnsAsync(
            () => Task.FromResult(_apps.Subscriber.Records().FirstOrDefault(r => r.GetProperty("body").TryGetProperty("id", out var v) && v.GetString() == id)),
            r => r.ValueKind == JsonValueKind.Object,
            "the .NET app to handle the node app's event");
        Assert.Equal("anyKey", record.GetProperty("handler").GetString());
        Assert.Equal("test-event", record.GetProperty("key").GetString());
        Assert.Equal("test.node-app", record.GetProperty("sender").GetString());
        Assert.Equal("node", record.GetProperty("body").GetProperty("from").GetString());
        // @vtex/api's logger line, as the link shows it.
        await _apps.Link.WaitForLineAsync($"[node-app] info: fired test-event {id}");
    }

    [Fact]
    public async Task AnEventTheDotnetAppFires_IsHandledByIt()
    {
        var id = Guid.NewGuid().ToString("N");

        using var fired = await _apps.Broker.Client.PostAsync("/local/dev/_v/test/fire/to-node", new StringContent($$"""{"id":"{{id}}"}""", Encoding.UTF8, "application/json"));

        Assert.True(fired.IsSuccessStatusCode, await fired.Content.ReadAsStringAsync());
        await _apps.Link.WaitForLineAsync($$"""[node-app] NODE EVENT HANDLER: received to-node from test.subscriber: {"id":"{{id}}"}""");
        var received = await _apps.Broker.Client.GetFromJsonAsync<JsonElement>("/local/dev/_v/node-app/received");
        Assert.Contains(received.EnumerateArray(), e => e.GetProperty("body").GetProperty("id").GetString() == id && e.GetProperty("sender").GetString() == "test.subscriber");
    }

    /// <summary>A broker; the test subscriber linked in local/dev; the node app copied and linked there with <c>herald link</c>.</summary>
    public sealed class LinkedApps : IAsyncLifetime
    {
        private readonly NodeAppCopy _app = new();

        public BrokerProcess Broker { get; private set; } = null!;

        public AppProcess Subscriber { get; private set; } = null!;

        public RunningProcess Link { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Broker = await BrokerProcess.StartAsync();
            Subscriber = await AppProcess.StartAsync(Broker, Repo.TestSubscriberFolder, "local", "dev");
            Link = Cli.Start(Broker, _app.Root, null, "link");
            // The first link installs the app's npm packages (from npm's cache once a run has fetched them).
            await Link.WaitForLineAsync("Watching ", TimeSpan.FromMinutes(5));
        }

        public async Task DisposeAsync()
        {
            if (Link is not null)
            {
                Link.Terminate();
                await Link.WaitForExitAsync(TimeSpan.FromSeconds(60));
                await Link.DisposeAsync();
            }

            if (Subscriber is not null)
            {
                await Subscriber.DisposeAsync();
            }

            if (Broker is not null)
            {
                await Broker.DisposeAsync();
            }

            _app.Dispose();
        }
    }
}
