using System.Net;
using System.Net.Http.Json;
using Herald.Broker.Admin;

namespace Herald.Broker.Tests;

public sealed class PublishTests : IAsyncLifetime
{
    private const string Listener = """{"events":{"onSend":{"sender":"vtex.events-example","keys":["send-event"]}}}""";
    private const string SenderService = """{"routes":{"hcheck":{"path":"/_v/app/events-example/hcheck","public":true}}}""";

    private BrokerHarness _broker = null!;
    private FakeApp _app = null!;
    private string _senderToken = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrokerHarness.StartAsync(configure: o => o.MaxBodyBytes = 4096);
        _app = await FakeApp.StartAsync();
        await _broker.LinkAsync("acme", "dev", "vtex", "live-users", Listener, _app.Endpoint);
        _senderToken = (await _broker.LinkAsync("acme", "dev", "vtex", "events-example", SenderService, _app.Endpoint)).Token;
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Publish_WithAppToken_Answers202WithIdAndDeliveryCount()
    {
        using var response = await _broker.PublishAsync(_senderToken, "acme", "dev", "send-event", """{"random": 42}""");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<PublishResponse>();
        Assert.Equal(1, body!.Deliveries);
        Assert.Equal(7, Guid.Parse(body.Id).Version);
    }

    [Fact]
    public async Task Publish_OnCourierPath_IsAcceptedToo()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/courier/v0/acme/dev/events/send-event") { Content = JsonContent.Create(new { a = 1 }) };
        request.Headers.Authorization = new("Bearer", _senderToken);
        using var response = await _broker.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Theory]
    [InlineData(null, "acme", "dev", "send-event", """{"a":1}""", HttpStatusCode.Unauthorized)]
    [InlineData("hat_not-a-real-token", "acme", "dev", "send-event", """{"a":1}""", HttpStatusCode.Unauthorized)]
    [InlineData("SENDER", "acme", "prod", "send-event", """{"a":1}""", HttpStatusCode.Forbidden)]
    [InlineData("SENDER", "other", "dev", "send-event", """{"a":1}""", HttpStatusCode.Forbidden)]
    [InlineData("SENDER", "acme", "dev", "send-event", "not json", HttpStatusCode.BadRequest)]
    [InlineData("SENDER", "acme", "dev", "send-event", "42", HttpStatusCode.BadRequest)]
    [InlineData("SENDER", "acme", "dev", "send-event", """{"a":1} {"b":2}""", HttpStatusCode.BadRequest)]
    [InlineData("SENDER", "acme", "dev", "-bad-key", """{"a":1}""", HttpStatusCode.BadRequest)]
    [InlineData("SENDER", "acme", "dev", "send-event", "BIG", HttpStatusCode.RequestEntityTooLarge)]
    [InlineData("SENDER", "Acme", "dev", "send-event", """{"a":1}""", HttpStatusCode.BadRequest)]
    public async Task BadPublish_GetsItsStatusAsProblemAndStoresNothing(string? token, string account, string workspace, string key, string body, HttpStatusCode expected)
    {
        token = token == "SENDER" ? _senderToken : token;
        body = body == "BIG" ? $$"""{"data":"{{new string('x', 5000)}}"}""" : body;

        using var response = await _broker.PublishAsync(token, account, workspace, key, body);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>();
        Assert.False(string.IsNullOrWhiteSpace(problem!.Detail));
        var subscription = await _broker.SubscriptionAsync("acme", "dev", "acme/dev/vtex.live-users/onSend");
        Assert.Equal(0, subscription.Pending + subscription.InFlight + subscription.Delivered + subscription.Dead);
    }

    [Fact]
    public async Task Publish_WithAdminTokenOnAppRoute_IsForbiddenBecauseTheSenderComesFromAnAppToken()
    {
        using var response = await _broker.PublishAsync(_broker.AdminToken, "acme", "dev", "send-event", """{"a":1}""");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Publish_SameIdempotencyKeyTwice_ReturnsFirstIdAndFansOutOnce()
    {
        using var first = await _broker.PublishAsync(_senderToken, "acme", "dev", "send-event", """{"n":1}""", idempotencyKey: "order-17");
        using var second = await _broker.PublishAsync(_senderToken, "acme", "dev", "send-event", """{"n":1}""", idempotencyKey: "order-17");

        var a = await first.Content.ReadFromJsonAsync<PublishResponse>();
        var b = await second.Content.ReadFromJsonAsync<PublishResponse>();
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal(a!.Id, b!.Id);
        await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync("acme", "dev", "acme/dev/vtex.live-users/onSend"), s => s.Delivered == 1, "one delivery");
        Assert.Single(_app.Requests, r => r.Path.EndsWith("/_events", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AppToken_AfterRelink_StopsWorking()
    {
        var relinked = await _broker.LinkAsync("acme", "dev", "vtex", "events-example", SenderService, _app.Endpoint);

        using var old = await _broker.PublishAsync(_senderToken, "acme", "dev", "send-event", """{"a":1}""");
        using var fresh = await _broker.PublishAsync(relinked.Token, "acme", "dev", "send-event", """{"a":1}""");

        Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, fresh.StatusCode);
    }
}
