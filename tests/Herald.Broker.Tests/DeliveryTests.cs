using System.Net;
using System.Net.Http.Json;
using Herald.Broker.Admin;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;

namespace Herald.Broker.Tests;

public sealed class DeliveryTests : IAsyncLifetime
{
    private const string Fast = """ "delivery": {"retries": 3, "initialBackoffDelay": 10, "timeout": 5000} """;

    private BrokerHarness _broker = null!;
    private FakeApp _app = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrokerHarness.StartAsync();
        _app = await FakeApp.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _app.DisposeAsync();
    }

    private async Task<string> LinkSenderAsync(string account = "acme", string workspace = "dev") =>
        (await _broker.LinkAsync(account, workspace, "vtex", "events-example", "{}", _app.Endpoint)).Token;

    private Task<LinkResponse> LinkListenerAsync(string events, string account = "acme", string workspace = "dev") =>
        _broker.LinkAsync(account, workspace, "vtex", "live-users", $$"""{"events": {{events}} }""", _app.Endpoint);

    private ReceivedRequest[] Deliveries() => _app.Requests.Where(r => r.Path.EndsWith("/_events", StringComparison.Ordinal)).ToArray();

    [Fact]
    public async Task AHandlerWithASenderAndNoKeys_TakesEveryEventOfThatSender_AndNoOtherSenders()
    {
        await LinkListenerAsync("""{"everything":{"sender":"vtex.events-example"}}""");
        var token = await LinkSenderAsync();
        var other = (await _broker.LinkAsync("acme", "dev", "vtex", "other-sender", "{}", _app.Endpoint)).Token;

        var routed = new List<int>();
        foreach (var (from, key) in new[] { (token, "send-event"), (other, "send-event"), (token, "order-created") })
        {
            using var response = await _broker.PublishAsync(from, "acme", "dev", key, "{}");
            routed.Add((await response.Content.ReadFromJsonAsync<PublishResponse>())!.Deliveries);
        }

        Assert.Equal([1, 0, 1], routed);
        await Eventually.TrueAsync(() => Deliveries().Length == 2, "both deliveries");
        Assert.Equal(["order-created", "send-event"], Deliveries().Select(d => d.Headers[HeraldHeaders.EventKey]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Publish_Answers202_WithTheEventIdAndItsDeliveryCount_AsJson()
    {
        await LinkListenerAsync("""{"liveUsersUpdate":{"sender":"vtex.events-example","keys":["send-event"]}}""");
        var token = await LinkSenderAsync();

        using var response = await _broker.PublishAsync(token, "acme", "dev", "send-event", "{}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(text.Length, response.Content.Headers.ContentLength);
        var published = System.Text.Json.JsonSerializer.Deserialize<PublishResponse>(text, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;
        Assert.Equal(1, published.Deliveries);
        Assert.Equal($$"""{"id":"{{Guid.Parse(published.Id)}}","deliveries":1}""", text);
        await Eventually.TrueAsync(() => Deliveries().Length == 1, "a delivery");
        Assert.Equal(published.Id, Deliveries()[0].Headers[HeraldHeaders.EventId]);
    }

    [Fact]
    public async Task Delivery_CarriesTheProtocolHeadersTheBodyVerbatimAndAValidSignature()
    {
        var listener = await LinkListenerAsync("""{"liveUsersUpdate":{"sender":"vtex.events-example","keys":["send-event"]}}""");
        var token = await LinkSenderAsync();
        const string body = """{ "random" : 42 }""";

        using var response = await _broker.PublishAsync(token, "acme", "dev", "send-event", body, subject: "orders/17");
        var id = (await response.Content.ReadFromJsonAsync<PublishResponse>())!.Id;
        await Eventually.TrueAsync(() => Deliveries().Length == 1, "a delivery");

        var delivery = Deliveries()[0];
        Assert.Equal("POST", delivery.Method);
        Assert.Equal("/acme/dev/_events", delivery.Path);
        Assert.Equal(body, System.Text.Encoding.UTF8.GetString(delivery.Body));
        var h = delivery.Headers;
        Assert.Equal("application/json", h["content-type"]);
        Assert.Equal(body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), h["content-length"]);
        Assert.Equal("liveUsersUpdate", h[HeraldHeaders.EventHandlerId]);
        Assert.Equal("send-event", h[HeraldHeaders.EventKey]);
        Assert.Equal("vtex.events-example", h[HeraldHeaders.EventSender]);
        Assert.Equal("orders/17", h[HeraldHeaders.EventSubject]);
        Assert.Equal("acme", h[HeraldHeaders.Account]);
        Assert.Equal("dev", h[HeraldHeaders.Workspace]);
        Assert.Equal("false", h[HeraldHeaders.WorkspaceIsProduction]);
        Assert.Equal(listener.Token, h[HeraldHeaders.Credential]);
        Assert.Equal(id, h[HeraldHeaders.EventId]);
        Assert.Equal(id, h[HeraldHeaders.OperationId]);
        Assert.Equal("1", h[HeraldHeaders.EventAttempt]);
        Assert.False(string.IsNullOrEmpty(h[HeraldHeaders.RequestId]));
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", h[HeraldHeaders.TraceParent]);
        Assert.True(DateTimeOffset.TryParse(h[HeraldHeaders.EventTime], System.Globalization.CultureInfo.InvariantCulture, out _));
        var check = WebhookSignature.Verify([listener.SigningSecret], h[HeraldHeaders.WebhookId], h[HeraldHeaders.WebhookTimestamp], h[HeraldHeaders.WebhookSignature], delivery.Body, DateTimeOffset.UtcNow);
        Assert.Equal(SignatureCheck.Valid, check);
    }

    [Fact]
    public async Task Event_IsDeliveredOnlyInItsWorkspaceAndOnlyToMatchingSenderAndKey()
    {
        await LinkListenerAsync("""{"fromExample":{"sender":"vtex.events-example","keys":["send-event"]},"anySender":{"keys":["other-key"]}}""", workspace: "b");
        await LinkListenerAsync("""{"fromExample":{"sender":"vtex.events-example","keys":["send-event"]}}""", workspace: "a");
        var tokenA = await LinkSenderAsync(workspace: "a");
        var tokenB = await LinkSenderAsync(workspace: "b");
        var otherSender = (await _broker.LinkAsync("acme", "b", "vtex", "intruder", "{}", _app.Endpoint)).Token;

        using var inA = await _broker.PublishAsync(tokenA, "acme", "a", "send-event", """{"to":"a"}""");
        using var wrongKey = await _broker.PublishAsync(tokenB, "acme", "b", "unrelated", """{"to":"nobody"}""");
        using var wrongSender = await _broker.PublishAsync(otherSender, "acme", "b", "send-event", """{"to":"nobody"}""");
        using var anySender = await _broker.PublishAsync(otherSender, "acme", "b", "other-key", """{"to":"b-any"}""");

        Assert.Equal(1, (await inA.Content.ReadFromJsonAsync<PublishResponse>())!.Deliveries);
        Assert.Equal(0, (await wrongKey.Content.ReadFromJsonAsync<PublishResponse>())!.Deliveries);
        Assert.Equal(0, (await wrongSender.Content.ReadFromJsonAsync<PublishResponse>())!.Deliveries);
        Assert.Equal(1, (await anySender.Content.ReadFromJsonAsync<PublishResponse>())!.Deliveries);
        await Eventually.TrueAsync(() => Deliveries().Length == 2, "two deliveries");
        var byWorkspace = Deliveries().ToDictionary(d => d.Headers[HeraldHeaders.Workspace], d => System.Text.Encoding.UTF8.GetString(d.Body));
        Assert.Equal("""{"to":"a"}""", byWorkspace["a"]);
        Assert.Equal("""{"to":"b-any"}""", byWorkspace["b"]);
    }

    [Fact]
    public async Task Handler_FailingTwiceWith500_IsDeliveredOnAttempt3()
    {
        await LinkListenerAsync($$$"""{"h":{"keys":["k"], {{{Fast}}} }}""");
        var token = await LinkSenderAsync();
        _app.Respond = (r, _) => Task.FromResult(r.Headers[HeraldHeaders.EventAttempt] is "1" or "2" ? Results.StatusCode(500) : Results.NoContent());

        using var _ = await _broker.PublishAsync(token, "acme", "dev", "k", "{}");

        var subscription = await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync("acme", "dev", "acme/dev/vtex.live-users/h"), s => s.Delivered == 1, "delivered");
        Assert.Equal(0, subscription.Dead);
        Assert.Equal(["1", "2", "3"], Deliveries().Select(d => d.Headers[HeraldHeaders.EventAttempt]));
        Assert.Single(Deliveries().Select(d => d.Headers[HeraldHeaders.EventId]).Distinct());
    }

    [Fact]
    public async Task Handler_Answering400_IsDeadLetteredAtOnce_AndRedriveDeliversItAfterTheFix()
    {
        await LinkListenerAsync($$$"""{"h":{"keys":["k"], {{{Fast}}} }}""");
        var token = await LinkSenderAsync();
        _app.Respond = (_, _) => Task.FromResult(Results.Problem(detail: "missing field 'orderId'", statusCode: 400));

        using var _ = await _broker.PublishAsync(token, "acme", "dev", "k", """{"x":1}""");
        var dead = await Eventually.ReturnsAsync(() => _broker.AdminGetAsync<DeadLettersResponse>("/_herald/v1/acme/dev/deadletters"), d => d.DeadLetters.Count == 1, "a dead letter");

        var letter = dead.DeadLetters[0];
        Assert.Single(Deliveries());
        Assert.StartsWith("rejected", letter.Reason, StringComparison.Ordinal);
        Assert.Equal("h", letter.HandlerId);
        Assert.Equal("vtex.live-users", letter.App);
        var attempt = Assert.Single(letter.Attempts);
        Assert.Equal(400, attempt.Status);
        Assert.Contains("missing field 'orderId'", attempt.Error, StringComparison.Ordinal);
        Assert.Equal(1, letter.Body.GetProperty("x").GetInt32());

        _app.Respond = (_, _) => Task.FromResult(Results.NoContent());
        using var redrive = _broker.Admin(HttpMethod.Post, "/_herald/v1/acme/dev/deadletters/redrive");
        redrive.Content = JsonContent.Create(new RedriveRequest([letter.Id], null, null));
        using var redriven = await _broker.Client.SendAsync(redrive);
        Assert.Equal(new RedriveResponse(1, 0), await redriven.Content.ReadFromJsonAsync<RedriveResponse>());

        var subscription = await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync("acme", "dev", "acme/dev/vtex.live-users/h"), s => s.Delivered == 1, "delivered after redrive");
        Assert.Equal(0, subscription.Dead);
        Assert.Equal("1", Deliveries()[^1].Headers[HeraldHeaders.EventAttempt]);
    }

    [Fact]
    public async Task RetriesExhausted_DeadLettersWithEveryAttemptRecorded()
    {
        await LinkListenerAsync("""{"h":{"keys":["k"], "delivery": {"retries": 2, "initialBackoffDelay": 1}}}""");
        var token = await LinkSenderAsync();
        _app.Respond = (_, _) => Task.FromResult(Results.StatusCode(503));

        using var _ = await _broker.PublishAsync(token, "acme", "dev", "k", "{}");
        var dead = await Eventually.ReturnsAsync(() => _broker.AdminGetAsync<DeadLettersResponse>("/_herald/v1/acme/dev/deadletters"), d => d.DeadLetters.Count == 1, "a dead letter");

        Assert.StartsWith("retries-exhausted", dead.DeadLetters[0].Reason, StringComparison.Ordinal);
        Assert.Equal([1, 2, 3], dead.DeadLetters[0].Attempts.Select(a => a.Attempt));
        Assert.All(dead.DeadLetters[0].Attempts, a => Assert.Equal(503, a.Status));
    }

    [Fact]
    public async Task ConnectionRefused_IsRetriedAndRecordedAsNetworkError()
    {
        await using var gone = await FakeApp.StartAsync();
        var endpoint = gone.Endpoint;
        await gone.DisposeAsync();
        await _broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events":{"h":{"keys":["k"],"delivery":{"retries":1,"initialBackoffDelay":1}}}}""", endpoint);
        var token = await LinkSenderAsync();

        using var _ = await _broker.PublishAsync(token, "acme", "dev", "k", "{}");
        var dead = await Eventually.ReturnsAsync(() => _broker.AdminGetAsync<DeadLettersResponse>("/_herald/v1/acme/dev/deadletters"), d => d.DeadLetters.Count == 1, "a dead letter");

        Assert.Equal(2, dead.DeadLetters[0].Attempts.Count);
        Assert.All(dead.DeadLetters[0].Attempts, a => Assert.StartsWith("network:", a.Error, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Router_ForwardsADeclaredRouteWithContextHeaders_AndRefusesUndeclaredPaths()
    {
        var link = await _broker.LinkAsync("acme", "dev", "vtex", "events-example", """{"routes":{"hcheck":{"path":"/_v/app/events-example/hcheck","public":true}}}""", _app.Endpoint);
        _app.Respond = (_, _) => Task.FromResult(Results.Text("ok"));

        var text = await _broker.Client.GetStringAsync("/acme/dev/_v/app/events-example/hcheck?x=1");
        using var missing = await _broker.Client.GetAsync("/acme/dev/_v/app/events-example/nope");
        using var otherWorkspace = await _broker.Client.GetAsync("/acme/prod/_v/app/events-example/hcheck");

        Assert.Equal("ok", text);
        var forwarded = Assert.Single(_app.Requests);
        Assert.Equal("/_v/app/events-example/hcheck?x=1", forwarded.Path);
        Assert.Equal("hcheck", forwarded.Headers[HeraldHeaders.RouteId]);
        Assert.Equal("acme", forwarded.Headers[HeraldHeaders.Account]);
        Assert.Equal("dev", forwarded.Headers[HeraldHeaders.Workspace]);
        Assert.Equal(link.Token, forwarded.Headers[HeraldHeaders.Credential]);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherWorkspace.StatusCode);
        Assert.Equal("http://" + _broker.BaseAddress.Authority + "/acme/dev/_v/app/events-example/hcheck", link.Routes.Single().Url);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10_001)]
    public async Task Redrive_WithALimitOutOfRange_Gets400AndChangesNothing(int limit)
    {
        await LinkListenerAsync("""{"h":{"keys":["k"],"delivery":{"retries":0}}}""");
        var token = await LinkSenderAsync();
        _app.Respond = (_, _) => Task.FromResult(Results.BadRequest());
        using (await _broker.PublishAsync(token, "acme", "dev", "k", "{}"))
        {
        }

        await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync("acme", "dev", "acme/dev/vtex.live-users/h"), s => s.Dead == 1, "dead-lettered");

        using var redrive = _broker.Admin(HttpMethod.Post, "/_herald/v1/acme/dev/deadletters/redrive");
        redrive.Content = JsonContent.Create(new RedriveRequest(null, "acme/dev/vtex.live-users/h", null, limit));
        using var refused = await _broker.Client.SendAsync(redrive);

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains($"'limit' must be from 1 to 10000; found {limit}.", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, (await _broker.SubscriptionAsync("acme", "dev", "acme/dev/vtex.live-users/h")).Dead);
    }
}
