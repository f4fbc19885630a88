using System.Text;
using Herald.Protocol;
using static Herald.EndToEnd.Tests.Security.SecurityFixture;

namespace Herald.EndToEnd.Tests.Security;

/// <summary>
/// Deliveries sent straight to the subscriber's events endpoint (<c>POST {endpoint}/{a}/{w}/_events</c>), bypassing the
/// broker: unsigned, signed with another secret, altered after signing, stale, from the future, replayed, with headers
/// injected. The SDK answers 401 and the handler never runs.
/// </summary>
[Collection(SecuritySuite.Name)]
public class DirectDeliveryAttackTests(SecurityFixture f)
{
    private const string Body = """{"n":1}""";

    /// <summary>A delivery as the broker builds it (DeliveryClient), signed with <paramref name="secret"/> at <paramref name="at"/>.</summary>
    private HttpRequestMessage Delivery(string? secret, DateTimeOffset at, string body = Body, string handler = "anyKey", string? signedBody = null, string? webhookId = null, string path = $"/{Account}/{Victim}/_events")
    {
        var id = webhookId ?? Guid.CreateVersion7().ToString();
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(f.Subscriber.Endpoint, path))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        var h = request.Headers;
        h.TryAddWithoutValidation(HeraldHeaders.EventHandlerId, handler);
        h.TryAddWithoutValidation(HeraldHeaders.EventKey, "test-event");
        h.TryAddWithoutValidation(HeraldHeaders.EventSender, VictimSender);
        h.TryAddWithoutValidation(HeraldHeaders.EventSubject, "");
        h.TryAddWithoutValidation(HeraldHeaders.Account, Account);
        h.TryAddWithoutValidation(HeraldHeaders.Workspace, Victim);
        h.TryAddWithoutValidation(HeraldHeaders.EventId, id);
        h.TryAddWithoutValidation(HeraldHeaders.EventAttempt, "1");
        h.TryAddWithoutValidation(HeraldHeaders.EventTime, at.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        if (secret is not null)
        {
            var timestamp = at.ToUnixTimeSeconds();
            h.TryAddWithoutValidation(HeraldHeaders.WebhookId, id);
            h.TryAddWithoutValidation(HeraldHeaders.WebhookTimestamp, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            h.TryAddWithoutValidation(HeraldHeaders.WebhookSignature, WebhookSignature.Sign(secret, id, timestamp, Encoding.UTF8.GetBytes(signedBody ?? body)));
            var requestId = Guid.NewGuid().ToString("N");
            h.TryAddWithoutValidation(HeraldHeaders.RequestId, requestId);
            var context = new DeliveryContext(id, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture), requestId, handler, "test-event", VictimSender, "",
                Account, Victim, "1");
            h.TryAddWithoutValidation(HeraldHeaders.ContextSignature, DeliveryContextSignature.Sign(secret, context));
        }

        return request;
    }

    private static async Task<(int Status, string Body)> SendAsync(HttpRequestMessage request)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        using (request)
        {
            using var response = await client.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }
    }

    private static HttpRequestMessage With(HttpRequestMessage request, string header, string value)
    {
        request.Headers.Remove(header);
        request.Headers.TryAddWithoutValidation(header, value);
        return request;
    }

    [Fact]
    public async Task ForgedStaleOrAlteredDeliveries_Get401_AndTheHandlerNeverRuns()
    {
        var secret = f.Subscriber.Link.SigningSecret;
        var now = DateTimeOffset.UtcNow;
        var records = f.Subscriber.Records().Count;
        var attacks = new (string Name, Func<HttpRequestMessage> Build)[]
        {
            ("unsigned", () => Delivery(null, now)),
            ("unsigned, with the admin token and B's app token", () => With(With(Delivery(null, now), "Authorization", "Bearer " + f.Broker.AdminToken), HeraldHeaders.Credential, f.VictimToken)),
            ("signed with another secret", () => Delivery(WebhookSignature.NewSecret(), now)),
            ("signed with A's app token as the secret", () => Delivery(WebhookSignature.SecretPrefix + Convert.ToBase64String(Encoding.UTF8.GetBytes(f.AttackerToken)), now)),
            ("body altered after signing", () => Delivery(secret, now, body: """{"n":2}""", signedBody: Body)),
            ("body grown after signing", () => Delivery(secret, now, body: """{"n":1,"failAttempts":{"1":500}}""", signedBody: Body)),
            ("timestamp 6 minutes old", () => Delivery(secret, now.AddMinutes(-6))),
            ("timestamp 6 minutes ahead", () => Delivery(secret, now.AddMinutes(6))),
            ("captured an hour ago, replayed", () => Delivery(secret, now.AddHours(-1), webhookId: "0197a0e4-0000-7000-8000-000000000001")),
            ("captured, timestamp moved to now", () => With(Delivery(secret, now.AddMinutes(-10)), HeraldHeaders.WebhookTimestamp, now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture))),
            ("captured, webhook-id changed", () => With(Delivery(secret, now), HeraldHeaders.WebhookId, Guid.CreateVersion7().ToString())),
            ("timestamp not a number", () => With(Delivery(secret, now), HeraldHeaders.WebhookTimestamp, "now")),
            ("timestamp negative", () => With(Delivery(secret, now), HeraldHeaders.WebhookTimestamp, "-1")),
            ("timestamp huge", () => With(Delivery(secret, now), HeraldHeaders.WebhookTimestamp, "99999999999999999999999")),
            ("signature empty", () => With(Delivery(secret, now), HeraldHeaders.WebhookSignature, "")),
            ("signature garbage", () => With(Delivery(secret, now), HeraldHeaders.WebhookSignature, "v1,AAAA")),
            ("signature without its version", () => With(Delivery(secret, now), HeraldHeaders.WebhookSignature, "not-v1")),
            ("signature of another scheme", () => With(Delivery(secret, now), HeraldHeaders.WebhookSignature, "v1a,AAAA v2,BBBB")),
            ("no webhook-id", () => With(Delivery(secret, now), HeraldHeaders.WebhookId, "")),
            ("to a handler that does not exist, unsigned", () => Delivery(null, now, handler: "../anyKey")),
        };

        foreach (var (name, build) in attacks)
        {
            var (status, body) = await SendAsync(build());
            Assert.True(status == 401, $"{name}: {status} {body}");
        }

        Assert.Equal(records, f.Subscriber.Records().Count);

        // Control: the same delivery signed with the app's secret, now, is handled — the rig can tell the difference.
        var (okStatus, okBody) = await SendAsync(Delivery(secret, DateTimeOffset.UtcNow));
        Assert.True(okStatus == 204, $"a valid delivery: {okStatus} {okBody}");
        Assert.Equal(records + 1, f.Subscriber.Records().Count);
    }

    [Fact]
    public async Task SignedDeliveries_ToHandlerOrPathTricks_AreRefused_AndTheHandlerNeverRuns()
    {
        var secret = f.Subscriber.Link.SigningSecret;
        var records = f.Subscriber.Records().Count;
        foreach (var handler in new[] { "../anyKey", "ANYKEY", "anykey", "anyKey/..", "%61nyKey", "anyKey.", "", new string('a', 5000) })
        {
            var (status, body) = await SendAsync(Delivery(secret, DateTimeOffset.UtcNow, handler: handler));
            Assert.True(status == 404, $"handler '{handler[..Math.Min(20, handler.Length)]}': {status} {body}");
        }

        foreach (var body in new[] { "not json", "{", "" })
        {
            var (status, answer) = await SendAsync(Delivery(secret, DateTimeOffset.UtcNow, body: body));
            Assert.True(status == 400, $"body '{body}': {status} {answer}");
        }

        Assert.Equal(records, f.Subscriber.Records().Count);
    }
}

/// <summary>The same attacks against a broker on the NATS JetStream store.</summary>
[Collection(NatsSecuritySuite.Name)]
public sealed class DirectDeliveryAttackTestsOnNats(NatsSecurityFixture f) : DirectDeliveryAttackTests(f);
