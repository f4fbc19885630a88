using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Herald.Protocol;
using static Herald.EndToEnd.Tests.Security.SecurityFixture;

namespace Herald.EndToEnd.Tests.Security;

/// <summary>Attacks the suite found getting through, each refused since; they stay here so they stay refused.</summary>
[Collection(SecuritySuite.Name)]
public class FindingsRegressionTests(SecurityFixture f)
{
    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFE })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    public async Task Publish_WithInvalidUtf8InsideAJsonString_Is400AndStoresNothing(byte[] bad)
    {
        var before = await f.SnapshotAsync(Account, Victim);
        using var request = Request(HttpMethod.Put, $"/{Account}/{Victim}/events/test-event", f.VictimToken);
        request.Content = new ByteArrayContent([.. "{\"a\":\""u8.ToArray(), .. bad, .. "\"}"u8.ToArray()]);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var (status, body) = await f.SendAsync(request);

        Assert.True(status == 400, body);
        Assert.Contains("UTF-8", body, StringComparison.Ordinal);
        Assert.Equal(before, await f.SnapshotAsync(Account, Victim));
    }

    [Theory]
    [InlineData("cl%C3%A9")]
    [InlineData("a%E2%80%A8b")]
    [InlineData("a%7Fb")]
    public async Task Publish_WithASubjectThatCannotTravelInAHeader_Is400AndStoresNothing(string resource)
    {
        var before = await f.SnapshotAsync(Account, Victim);

        var (status, body) = await f.SendAsync(Request(HttpMethod.Put, $"/{Account}/{Victim}/events/test-event?resource={resource}", f.VictimToken, """{"subject":1}"""));

        Assert.True(status == 400, body);
        Assert.Equal(before, await f.SnapshotAsync(Account, Victim));
    }

    [Theory]
    [InlineData("/_v/x\u0000")]
    [InlineData("/_v/%2e%2e/_events")]
    [InlineData("/_v/x\r\ny")]
    [InlineData("/_v/../_events")]
    public async Task Link_WithControlCharactersOrEscapesInARoutePath_Is400AndLinksNothing(string path)
    {
        var workspace = "f3-" + Guid.NewGuid().ToString("N")[..8];
        using var request = Request(HttpMethod.Put, $"/_herald/v1/{Account}/{workspace}/apps/evil.paths", f.Broker.AdminToken,
            """{"manifest":{"vendor":"evil","name":"paths","version":"1.0.0"},"service":{"routes":{"r":{"path":""" + JsonSerializer.Serialize(path) + ""","public":true}}},"endpoint":"http://127.0.0.1:9"}""");

        var (status, body) = await f.SendAsync(request);

        Assert.True(status == 400, body);
        Assert.DoesNotContain("evil.paths", await f.SnapshotAsync(Account, workspace), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenTail_OfATokenRotatedByARelink_EndsWithoutShowingNewEvents()
    {
        const string Workspace = "f4-rotation";
        var first = await f.LinkAsync(Account, Workspace, "rot.tail", "{}");
        await using var tail = await SseTail.OpenAsync(f.Broker.Url, $"/{Account}/{Workspace}/events", first.Token);
        var second = await f.LinkAsync(Account, Workspace, "rot.tail", "{}");

        var (status, _) = await f.PublishAsync(second.Token, Account, Workspace, "after-rotation", """{"secret":"for the new token only"}""");

        Assert.Equal(202, status);
        await Eventually.TrueAsync(() => tail.Ended, "the old token's tail to end", TimeSpan.FromSeconds(30));
        Assert.Empty(tail.Events);
    }

    /// <summary>A delivery exactly as the broker signs it: body signature and context signature.</summary>
    private HttpRequestMessage Captured(string id, long timestamp, string requestId, string handler, string sender, string path, string body)
    {
        var secret = f.Subscriber.Link.SigningSecret;
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(f.Subscriber.Endpoint, path)) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        var h = request.Headers;
        var ts = timestamp.ToString(CultureInfo.InvariantCulture);
        h.TryAddWithoutValidation(HeraldHeaders.EventHandlerId, handler);
        h.TryAddWithoutValidation(HeraldHeaders.EventKey, "test-event");
        h.TryAddWithoutValidation(HeraldHeaders.EventSender, sender);
        h.TryAddWithoutValidation(HeraldHeaders.EventSubject, "");
        h.TryAddWithoutValidation(HeraldHeaders.EventId, id);
        h.TryAddWithoutValidation(HeraldHeaders.EventAttempt, "1");
        h.TryAddWithoutValidation(HeraldHeaders.RequestId, requestId);
        h.TryAddWithoutValidation(HeraldHeaders.WebhookId, id);
        h.TryAddWithoutValidation(HeraldHeaders.WebhookTimestamp, ts);
        h.TryAddWithoutValidation(HeraldHeaders.WebhookSignature, WebhookSignature.Sign(secret, id, timestamp, Encoding.UTF8.GetBytes(body)));
        h.TryAddWithoutValidation(HeraldHeaders.ContextSignature, DeliveryContextSignature.Sign(secret,
            new DeliveryContext(id, ts, requestId, "anyKey", "test-event", Spoofer, "", Account, Victim, "1")));
        return request;
    }

    [Fact]
    public async Task CapturedDelivery_ReplayedOrSentWithOtherHeadersOrPath_IsRefused()
    {
        var id = Guid.CreateVersion7().ToString();
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var requestId = Guid.NewGuid().ToString("N");
        const string Body = """{"captured":true}""";
        var records = f.Subscriber.Records().Count;
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };

        var statuses = new List<int>();
        foreach (var (handler, sender, path) in new[]
        {
            ("anyKey", Spoofer, $"/{Account}/{Victim}/_events"),
            ("anyKey", Spoofer, $"/{Account}/{Victim}/_events"),
            ("fromExample", VictimSender, $"/{Account}/{Victim}/_events"),
            ("anyKey", Spoofer, $"/{OtherAccount}/{OtherWorkspace}/_events"),
        })
        {
            using var response = await client.SendAsync(Captured(id, timestamp, requestId, handler, sender, path, Body));
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal([204, 401, 401, 401], statuses);
        await Eventually.TrueAsync(() => f.Subscriber.Records().Count >= records + 1, "the original delivery handled");
        var handled = f.Subscriber.Records().Skip(records).Where(r => r.GetProperty("eventId").GetString() == id).ToList();
        var only = Assert.Single(handled);
        Assert.Equal(("anyKey", Spoofer), (only.GetProperty("handler").GetString(), only.GetProperty("sender").GetString()));
    }
}

/// <summary>The same attacks against a broker on the NATS JetStream store.</summary>
[Collection(NatsSecuritySuite.Name)]
public sealed class FindingsRegressionTestsOnNats(NatsSecurityFixture f) : FindingsRegressionTests(f);
