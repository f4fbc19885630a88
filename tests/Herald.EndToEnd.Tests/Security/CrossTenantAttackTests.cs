using System.Text.Json;
using Herald.Broker.Admin;
using static Herald.EndToEnd.Tests.Security.SecurityFixture;

namespace Herald.EndToEnd.Tests.Security;

/// <summary>
/// Workspace A (<c>acme/attacker</c>) and another account (<c>other/master</c>) attack workspace B (<c>acme/victim</c>) with
/// their own app tokens: publish, tail, a non-public route, the admin API and redrive. Each is refused with its status,
/// and B's apps, counts, dead letters, subscriber records and tail are exactly as before.
/// </summary>
[Collection(SecuritySuite.Name)]
public class CrossTenantAttackTests(SecurityFixture f)
{
    [Fact]
    public async Task Publish_WithTokenOfAnotherWorkspaceOrAccount_Is403_AndChangesNothing()
    {
        var before = await f.SnapshotAsync(Account, Victim);
        var records = f.Subscriber.Records().Count;
        await using var tail = await SseTail.OpenAsync(f.Broker.Url, $"/{Account}/{Victim}/events", f.Broker.AdminToken);

        foreach (var token in new[] { f.AttackerToken, f.ForeignToken })
        {
            foreach (var prefix in new[] { "", "/courier/v0" })
            {
                foreach (var method in new[] { HttpMethod.Put, HttpMethod.Post })
                {
                    foreach (var key in new[] { "test-event", "send-event" })
                    {
                        var (status, body) = await f.SendAsync(Request(method, $"{prefix}/{Account}/{Victim}/events/{key}", token, """{"attack":true}"""));
                        Assert.True(status == 403, $"{method} {prefix} {key}: {status} {body}");
                    }
                }
            }
        }

        Assert.Equal(before, await f.SnapshotAsync(Account, Victim));
        await f.AssertOnlyMarkerReachedVictimAsync(tail, records);
    }

    [Fact]
    public async Task Tail_OfAnotherWorkspace_WithAppTokenOfAOrAnotherAccount_Is403_WithoutToken401()
    {
        foreach (var (token, expected) in new[] { (f.AttackerToken, 403), (f.ForeignToken, 403), (null, 401), ("not-a-token", 401) })
        {
            foreach (var query in new[] { "", "?sender=vtex.events-example", "?keys=test-event&keys=send-event" })
            {
                var (status, body) = await f.SendAsync(Request(HttpMethod.Get, $"/{Account}/{Victim}/events{query}", token));
                Assert.True(status == expected, $"tail {query} with {(token is null ? "no token" : token[..Math.Min(8, token.Length)])}: {status} {body}");
            }
        }

        // Control: the same token may read its own workspace.
        await using var own = await SseTail.OpenAsync(f.Broker.Url, $"/{Account}/{Attacker}/events", f.AttackerToken);
    }

    [Fact]
    public async Task NonPublicRoute_OfAnotherWorkspace_IsRefusedBeforeForwarding_AndItsOwnTokenIsForwarded()
    {
        var records = f.Subscriber.Records().Count;
        foreach (var (token, expected) in new[] { (f.AttackerToken, 403), (f.ForeignToken, 403), (null, 401), ("forged-token", 401) })
        {
            foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Delete })
            {
                var (status, body) = await f.SendAsync(Request(method, $"/{Account}/{Victim}{PrivatePath}?x=1", token, method == HttpMethod.Post ? "{}" : null));
                Assert.True(status == expected, $"{method} {PrivatePath}: {status} {body}");
                Assert.DoesNotContain("Route not found for", body, StringComparison.Ordinal);
            }
        }

        // Control: B's own token and the admin token get through the broker; the subscriber (which does not serve the
        // route id 'secret') answers its own 404, which proves the refusals above came from the broker.
        foreach (var token in new[] { f.VictimToken, f.Broker.AdminToken })
        {
            var (status, body) = await f.SendAsync(Request(HttpMethod.Get, $"/{Account}/{Victim}{PrivatePath}", token));
            Assert.True(status == 404 && body.Contains("Route not found for secret", StringComparison.Ordinal), $"forwarded: {status} {body}");
        }

        Assert.Equal(records, f.Subscriber.Records().Count);
    }

    [Fact]
    public async Task PublicRoute_IgnoresACallersRouteIdAndContextHeaders()
    {
        // 'received' is public and answers GET; 'fix' answers GET with 405. A caller naming 'fix' in x-colossus-route-id
        // must still reach 'received': the broker sets the route id itself.
        using var request = Request(HttpMethod.Get, $"/{Account}/{Victim}/_v/test/received", f.AttackerToken);
        request.Headers.Add("x-colossus-route-id", "fix");
        request.Headers.Add("x-vtex-account", OtherAccount);
        request.Headers.Add("x-vtex-workspace", Attacker);
        request.Headers.Add("x-vtex-credential", f.AttackerToken);
        var (status, body) = await f.SendAsync(request);

        Assert.True(status == 200, $"{status} {body}");
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(body).RootElement.ValueKind);
    }

    public static TheoryData<string, string, string?> AdminCalls() => new()
    {
        { "GET", "apps", null },
        { "GET", "deadletters", null },
        { "POST", "deadletters/redrive", """{"subscription":"acme/victim/test.subscriber/anyKey"}""" },
        { "PUT", "apps/test.subscriber", """{"manifest":{"vendor":"test","name":"subscriber","version":"6.6.6"},"service":{"events":{"anyKey":{"keys":["test-event"]}}},"endpoint":"http://127.0.0.1:9"}""" },
        { "PUT", "apps/evil.newcomer", """{"manifest":{"vendor":"evil","name":"newcomer","version":"1.0.0"},"service":{"events":{"h":{"keys":["test-event"]}}},"endpoint":"http://127.0.0.1:9"}""" },
        { "DELETE", "apps/test.subscriber", null },
        { "GET", "activity", null },
        { "POST", "events/test-event?sender=vtex.events-example", """{"attack":true}""" },
    };

    [Theory]
    [MemberData(nameof(AdminCalls))]
    public async Task AdminApi_WithAppTokenIs403_WithoutOrWithWrongAdminTokenIs401_AndChangesNothing(string method, string path, string? body)
    {
        var before = await f.SnapshotAsync(Account, Victim);
        var records = f.Subscriber.Records().Count;
        await using var tail = await SseTail.OpenAsync(f.Broker.Url, $"/{Account}/{Victim}/events", f.Broker.AdminToken);
        var admin = f.Broker.AdminToken;
        var wrongAdmin = admin[..^1] + (admin[^1] == 'A' ? 'B' : 'A');
        var attempts = new (string What, Func<HttpRequestMessage, HttpRequestMessage> Auth, int Expected)[]
        {
            ("B's own app token", r => Bearer(r, f.VictimToken), 403),
            ("A's app token", r => Bearer(r, f.AttackerToken), 403),
            ("another account's app token", r => Bearer(r, f.ForeignToken), 403),
            ("no token", r => r, 401),
            ("a wrong admin token", r => Bearer(r, wrongAdmin), 401),
            ("the admin token cut short", r => Bearer(r, admin[..^4]), 401),
            ("the admin token in Basic", r => Raw(r, "Basic " + admin), 401),
            ("the admin token without a scheme", r => Raw(r, admin), 401),
            ("an empty bearer", r => Raw(r, "Bearer "), 401),
        };

        foreach (var (what, auth, expected) in attempts)
        {
            var request = auth(Request(new HttpMethod(method), $"/_herald/v1/{Account}/{Victim}/{path}", null, body));
            var (status, answer) = await f.SendAsync(request);
            Assert.True(status == expected, $"{method} {path} with {what}: expected {expected}, got {status} {answer}");
        }

        Assert.Equal(before, await f.SnapshotAsync(Account, Victim));
        await f.AssertOnlyMarkerReachedVictimAsync(tail, records);
    }

    [Fact]
    public async Task Redrive_OfDeadLetterIdsOfWorkspaceA_ThroughAnotherWorkspacesAdminPath_RedrivesNothing()
    {
        var (status, body) = await f.PublishAsync(f.AttackerToken, Account, Attacker, DeadKey, """{"doomed":true}""");
        Assert.True(status == 202, $"{status} {body}");
        var sent = JsonSerializer.Deserialize<PublishResponse>(body, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        var dead = await Eventually.ReturnsAsync(
            () => f.Broker.AdminAsync<DeadLettersResponse>(HttpMethod.Get, $"/_herald/v1/{Account}/{Attacker}/deadletters?limit=1000"),
            d => d.DeadLetters.Any(l => l.EventId == sent.Id), "A's dead letter");
        var letter = dead.DeadLetters.Single(l => l.EventId == sent.Id);
        var beforeA = await f.SnapshotAsync(Account, Attacker);
        var beforeB = await f.SnapshotAsync(Account, Victim);

        foreach (var (account, workspace) in new[] { (Account, Victim), (OtherAccount, OtherWorkspace), (Account, "never-linked") })
        {
            foreach (var redrive in new[]
            {
                new RedriveRequest([letter.Id], null, null),
                new RedriveRequest(null, letter.SubscriptionId, null),
                new RedriveRequest([letter.Id], letter.SubscriptionId, DateTimeOffset.UnixEpoch),
                new RedriveRequest(null, null, DateTimeOffset.UnixEpoch),
            })
            {
                var answer = await f.Broker.AdminAsync<RedriveResponse>(HttpMethod.Post, $"/_herald/v1/{account}/{workspace}/deadletters/redrive", redrive);
                Assert.True(answer.Redriven == 0, $"{account}/{workspace} redrove {answer.Redriven} of A's dead letters with {JsonSerializer.Serialize(redrive)}");
            }

            var listed = await f.Broker.AdminAsync<DeadLettersResponse>(HttpMethod.Get, $"/_herald/v1/{account}/{workspace}/deadletters?subscription={Uri.EscapeDataString(letter.SubscriptionId)}");
            Assert.Empty(listed.DeadLetters);
        }

        Assert.Equal(beforeA, await f.SnapshotAsync(Account, Attacker));
        Assert.Equal(beforeB, await f.SnapshotAsync(Account, Victim));
        var still = await f.Broker.AdminAsync<DeadLettersResponse>(HttpMethod.Get, $"/_herald/v1/{Account}/{Attacker}/deadletters?limit=1000");
        Assert.Contains(still.DeadLetters, l => l.Id == letter.Id && l.EventId == sent.Id);
    }

    private static HttpRequestMessage Bearer(HttpRequestMessage request, string token) => Raw(request, "Bearer " + token);

    private static HttpRequestMessage Raw(HttpRequestMessage request, string authorization)
    {
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        return request;
    }
}

/// <summary>The same attacks against a broker on the NATS JetStream store.</summary>
[Collection(NatsSecuritySuite.Name)]
public sealed class CrossTenantAttackTestsOnNats(NatsSecurityFixture f) : CrossTenantAttackTests(f);
