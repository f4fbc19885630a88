using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Herald.Broker.Admin;

namespace Herald.EndToEnd.Tests;

/// <summary>Bad publishes against a real broker process: each gets its 4xx as a problem, and nothing is stored.</summary>
public sealed class PublishEndToEndTests : IAsyncLifetime
{
    private BrokerProcess _broker = null!;
    private string _senderToken = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrokerProcess.StartAsync();
        var manifest = JsonDocument.Parse("""{"vendor":"vtex","name":"live-users","version":"0.1.0"}""").RootElement;
        var service = JsonDocument.Parse("""{"events":{"liveUsersUpdate":{"sender":"vtex.events-example","keys":["send-event"]}}}""").RootElement;
        await _broker.AdminAsync<LinkResponse>(HttpMethod.Put, "/_herald/v1/e2e/dev/apps/vtex.live-users", new LinkRequest(manifest, service, "http://127.0.0.1:9"));
        var sender = JsonDocument.Parse("""{"vendor":"vtex","name":"events-example","version":"0.1.0"}""").RootElement;
        _senderToken = (await _broker.AdminAsync<LinkResponse>(HttpMethod.Put, "/_herald/v1/e2e/dev/apps/vtex.events-example",
            new LinkRequest(sender, JsonDocument.Parse("{}").RootElement, "http://127.0.0.1:9"))).Token;
    }

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Theory]
    [InlineData("none", "/e2e/dev/events/send-event", """{"a":1}""", HttpStatusCode.Unauthorized)]
    [InlineData("sender", "/e2e/other/events/send-event", """{"a":1}""", HttpStatusCode.Forbidden)]
    [InlineData("sender", "/e2e/dev/events/send-event", "this is not json", HttpStatusCode.BadRequest)]
    [InlineData("sender", "/e2e/dev/events/bad%20key", """{"a":1}""", HttpStatusCode.BadRequest)]
    [InlineData("sender", "/e2e/dev/events/send-event", "OVER-LIMIT", HttpStatusCode.RequestEntityTooLarge)]
    public async Task BadPublish_GetsItsStatus_AndStoresNothing(string token, string path, string body, HttpStatusCode expected)
    {
        body = body == "OVER-LIMIT" ? $$"""{"data":"{{new string('x', (1024 * 1024) + 1)}}"}""" : body;
        using var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (token == "sender")
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _senderToken);
        }

        using var response = await _broker.Client.SendAsync(request);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()));
        var subscription = await _broker.SubscriptionAsync("e2e", "dev", "e2e/dev/vtex.live-users/liveUsersUpdate");
        Assert.Equal(0, subscription.Pending + subscription.InFlight + subscription.Delivered + subscription.Dead);
    }
}
