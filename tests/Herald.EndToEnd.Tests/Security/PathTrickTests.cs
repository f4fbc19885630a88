using System.Text;
using static Herald.EndToEnd.Tests.Security.SecurityFixture;

namespace Herald.EndToEnd.Tests.Security;

/// <summary>
/// Path tricks in account, workspace, key and handler names, sent byte for byte (no client normalisation): uppercase,
/// <c>..</c>, <c>%2e%2e</c>, <c>%2F</c>, very long names, unicode, <c>_herald</c> as an account, NUL. Each gets 400 or 404,
/// never a 5xx, never a delivery, never a change in B.
/// </summary>
[Collection(SecuritySuite.Name)]
public class PathTrickTests(SecurityFixture f)
{
    private static readonly string Long = new('a', 64);

    /// <summary>Publish targets; each is sent with B's own sender token (so only the path can be wrong) and with A's.</summary>
    public static TheoryData<string> PublishTargets() =>
    [
        "/ACME/victim/events/test-event",
        "/acme/VICTIM/events/test-event",
        "/Acme/victim/events/test-event",
        "/acme/victim/events/test-event/..",
        "/acme/victim/events/%2e%2e",
        "/acme/victim/events/..",
        "/acme/victim/events/.",
        "/acme/victim/events/%2e",
        "/acme/victim/events/test%2Fevent",
        "/acme/victim/events/test-event%2F..%2F..%2Fattacker",
        "/acme%2Fvictim/events/test-event",
        "/acme/victim%2F..%2Fattacker/events/test-event",
        "/acme/%2e%2e/victim/events/test-event",
        "/acme/victim/events/" + new string('k', 129),
        $"/{Long}/victim/events/test-event",
        $"/acme/{Long}/events/test-event",
        "/acm%C3%A9/victim/events/test-event",
        "/acme/v%C4%B1ctim/events/test-event",
        "/acme/victim/events/t%C3%A9st-event",
        "/acme/victim/events/test-event%E2%80%8B",
        "/%EF%BC%A1cme/victim/events/test-event",
        "/_herald/victim/events/test-event",
        "/_herald/v1/events/test-event",
        "/courier/v0/_herald/victim/events/test-event",
        "/acme/_events/events/test-event",
        "/acme/victim/events/test%00event",
        "/acme%00/victim/events/test-event",
        "/acme/victim%00attacker/events/test-event",
        "/acme/victim/events/test-event%0d%0ax-event-sender:%20evil",
        "/acme/victim/events/-test-event",
        "/acme/victim/events/.test-event",
        "/-acme/victim/events/test-event",
        "/acme/victim/events/test-event;sender=vtex.events-example",
        "/acme/victim/events/test-event/extra",
        "/acme//victim/events/test-event",
        "/courier/v0/ACME/victim/events/test-event",
        "/courier/v0/acme/victim/events/%2e%2e",
    ];

    [Theory]
    [MemberData(nameof(PublishTargets))]
    public async Task Publish_ToATrickPath_Is400Or404_AndDeliversNothing(string target)
    {
        var before = await f.SnapshotAsync(Account, Victim);
        var records = f.Subscriber.Records().Count;
        await using var tail = await SseTail.OpenAsync(f.Broker.Url, $"/{Account}/{Victim}/events", f.Broker.AdminToken);

        foreach (var (token, allowed) in new[] { (f.VictimToken, new[] { 400, 404 }), (f.AttackerToken, new[] { 400, 403, 404 }) })
        {
            foreach (var method in new[] { "PUT", "POST" })
            {
                var (status, response) = await RawHttp.SendAsync(f.Broker.Url,
                    RawHttp.Build(method, target, f.Broker.Url, [$"Authorization: Bearer {token}"], Encoding.UTF8.GetBytes("""{"trick":true}""")));
                Assert.True(allowed.Contains(status), $"{method} {target} with {(token == f.VictimToken ? "B's" : "A's")} token: {Head(response)}");
            }
        }

        Assert.Equal(before, await f.SnapshotAsync(Account, Victim));
        await f.AssertOnlyMarkerReachedVictimAsync(tail, records);
    }

    [Fact]
    public async Task KeyInAnotherCase_IsAnotherKey_AndDeliversNothing()
    {
        var records = f.Subscriber.Records().Count;
        var anyKey = await f.Broker.SubscriptionAsync(Account, Victim, $"{Account}/{Victim}/{SubscriberApp}/anyKey");
        foreach (var key in new[] { "TEST-EVENT", "Test-Event", "test-Event" })
        {
            var (status, body) = await f.PublishAsync(f.VictimToken, Account, Victim, key, "{}");
            Assert.True(status == 202 && body.Contains("\"deliveries\":0", StringComparison.Ordinal), $"{key}: {status} {body}");
        }

        var after = await f.Broker.SubscriptionAsync(Account, Victim, $"{Account}/{Victim}/{SubscriberApp}/anyKey");
        Assert.Equal(anyKey.Pending + anyKey.InFlight + anyKey.Delivered + anyKey.Dead, after.Pending + after.InFlight + after.Delivered + after.Dead);
        Assert.Equal(records, f.Subscriber.Records().Count);
    }

    public static TheoryData<string, string> OtherTargets() => new()
    {
        { "GET", "/ACME/victim/events" },
        { "GET", "/acme/VICTIM/events" },
        { "GET", "/acme/%2e%2e/events" },
        { "GET", "/acme/victim%00/events" },
        { "GET", $"/{Long}/victim/events" },
        { "GET", "/_herald/victim/events" },
        { "GET", "/acm%C3%A9/victim/events" },
        { "GET", "/_herald/v1/ACME/victim/apps" },
        { "GET", "/_herald/v1/acme/VICTIM/deadletters" },
        { "GET", "/_herald/v1/_herald/victim/apps" },
        { "GET", "/_herald/v1/acme/%2e%2e/apps" },
        { "GET", "/_herald/v1/acme/victim%2F..%2Fattacker/apps" },
        { "GET", $"/_herald/v1/{Long}/victim/apps" },
        { "GET", "/_herald/v1/acme/vict%00im/deadletters" },
        { "GET", "/_herald/v1/acm%C3%A9/victim/activity" },
        { "POST", "/_herald/v1/ACME/victim/deadletters/redrive" },
        { "POST", "/_herald/v1/acme/victim/events/..?sender=vtex.events-example" },
        { "POST", "/_herald/v1/acme/victim/events/test%2Fevent?sender=vtex.events-example" },
        { "POST", "/_herald/v1/acme/victim/events/test-event?sender=VTEX.events-example" },
        { "POST", "/_herald/v1/acme/victim/events/test-event?sender=vtex.events-example%00" },
        { "POST", "/_herald/v1/acme/victim/events/test-event?sender=vtex." },
        { "POST", "/_herald/v1/acme/victim/events/test-event?sender=a.b.c" },
        { "POST", "/_herald/v1/acme/victim/events/test-event?sender=..%2F..%2Fx" },
        { "PUT", "/_herald/v1/acme/victim/apps/..%2Ftest.subscriber" },
        { "PUT", "/_herald/v1/acme/victim/apps/TEST.subscriber" },
        { "PUT", "/_herald/v1/acme/victim/apps/test.subscriber%00" },
        { "PUT", "/_herald/v1/acme/victim/apps/test.sub%C3%9Fcriber" },
        { "DELETE", "/_herald/v1/acme/victim/apps/..%2Ftest.subscriber" },
        { "DELETE", "/_herald/v1/acme/victim/apps/test.subscriber%2F.." },
        { "DELETE", "/_herald/v1/acme/VICTIM/apps/test.subscriber" },
    };

    [Theory]
    [MemberData(nameof(OtherTargets))]
    public async Task TailOrAdmin_OnATrickPath_WithTheAdminToken_Is400Or404_AndChangesNothing(string method, string target)
    {
        var before = await f.SnapshotAsync(Account, Victim);
        var body = method switch
        {
            "PUT" => Encoding.UTF8.GetBytes($$"""{"manifest":{"vendor":"test","name":"subscriber","version":"6.6.6"},"service":{},"endpoint":"http://127.0.0.1:9"}"""),
            "POST" when target.Contains("redrive", StringComparison.Ordinal) => Encoding.UTF8.GetBytes("""{"since":"2000-01-01T00:00:00Z"}"""),
            "POST" => Encoding.UTF8.GetBytes("""{"trick":true}"""),
            _ => null,
        };

        var (status, response) = await RawHttp.SendAsync(f.Broker.Url,
            RawHttp.Build(method, target, f.Broker.Url, [$"Authorization: Bearer {f.Broker.AdminToken}"], body));

        Assert.True(status is 400 or 404, $"{method} {target}: {Head(response)}");
        Assert.Equal(before, await f.SnapshotAsync(Account, Victim));
    }

    [Theory]
    [InlineData("../anyKey")]
    [InlineData("a/b")]
    [InlineData("%2e%2e")]
    [InlineData("h\u0000x")]
    [InlineData("h\r\nx-event-sender: evil")]
    [InlineData("hañdler")]
    [InlineData("1handler")]
    [InlineData("")]
    [InlineData("LONG")]
    public async Task Link_WithATrickHandlerOrRouteName_Is400_AndLinksNothing(string handler)
    {
        handler = handler == "LONG" ? new string('h', 129) : handler;
        var workspace = "names-" + Guid.NewGuid().ToString("N")[..12];
        var escaped = System.Text.Json.JsonSerializer.Serialize(handler);
        foreach (var service in new[]
        {
            "{\"events\":{" + escaped + ":{\"keys\":[\"test-event\"]}}}",
            "{\"routes\":{" + escaped + ":{\"path\":\"/_v/x\",\"public\":true}}}",
        })
        {
            var manifest = """{"vendor":"evil","name":"names","version":"1.0.0"}""";
            using var request = Request(HttpMethod.Put, $"/_herald/v1/{Account}/{workspace}/apps/evil.names", f.Broker.AdminToken,
                $$"""{"manifest":{{manifest}},"service":{{service}},"endpoint":"http://127.0.0.1:9"}""");
            var (status, body) = await f.SendAsync(request);
            Assert.True(status == 400, $"{service}: {status} {body}");
        }

        Assert.Contains("\"apps\":[]", await f.SnapshotAsync(Account, workspace), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/_v/x/../../acme/victim/_events")]
    [InlineData("/_events")]
    [InlineData("/events/x")]
    public async Task Link_WithATrickRoutePath_Is400_AndLinksNothing(string path)
    {
        var workspace = "paths-" + Guid.NewGuid().ToString("N")[..12];
        var escaped = System.Text.Json.JsonSerializer.Serialize(path);
        using var request = Request(HttpMethod.Put, $"/_herald/v1/{Account}/{workspace}/apps/evil.paths", f.Broker.AdminToken,
            """{"manifest":{"vendor":"evil","name":"paths","version":"1.0.0"},"service":{"routes":{"r":{"path":""" + escaped + ""","public":true}}},"endpoint":"http://127.0.0.1:9"}""");
        var (status, body) = await f.SendAsync(request);

        Assert.True(status == 400, $"{path}: {status} {body}");
        Assert.Contains("\"apps\":[]", await f.SnapshotAsync(Account, workspace), StringComparison.Ordinal);
    }

    private static string Head(string response) => response.Length <= 600 ? response : response[..600];
}

/// <summary>The same attacks against a broker on the NATS JetStream store.</summary>
[Collection(NatsSecuritySuite.Name)]
public sealed class PathTrickTestsOnNats(NatsSecurityFixture f) : PathTrickTests(f);
