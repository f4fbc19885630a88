using System.Text.Json;
using Herald.Broker.Admin;
using static Herald.EndToEnd.Tests.Security.SecurityFixture;

namespace Herald.EndToEnd.Tests.Security;

/// <summary>
/// <c>evil.spoofer</c>, an app of B, publishes while claiming to be <c>vtex.events-example</c> (or another account or
/// workspace) in every place a sender could be smuggled: the delivered <c>x-event-sender</c> (recorded by the subscriber)
/// and the tail's <c>sender</c> are always the token's app, and a subscription that filters on the claimed sender gets nothing.
/// </summary>
[Collection(SecuritySuite.Name)]
public class SenderSpoofingTests(SecurityFixture f)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly (string Name, string Query, string? Header, string? Value, string Body)[] Tricks =
    [
        ("x-event-sender header", "", "x-event-sender", VictimSender, "{}"),
        ("x-vtex-account header", "", "x-vtex-account", OtherAccount, "{}"),
        ("x-vtex-workspace header", "", "x-vtex-workspace", Attacker, "{}"),
        ("x-colossus-route-id header", "", "x-colossus-route-id", "fix", "{}"),
        ("x-vtex-credential header", "", "x-vtex-credential", "VICTIM", "{}"),
        ("sender query", "?sender=" + VictimSender, null, null, "{}"),
        ("sender query, courier", "?sender=" + VictimSender + "&resource=r", null, null, "{}"),
        ("sender field in the body", "", null, null, $$"""{"sender":"{{VictimSender}}","account":"{{OtherAccount}}","workspace":"master"}"""),
        ("every trick at once", "?sender=" + VictimSender, "x-event-sender", VictimSender, $$"""{"sender":"{{VictimSender}}"}"""),
    ];

    [Fact]
    public async Task Publish_WithSenderSmuggledInHeadersQueryOrBody_IsDeliveredAndTailedAsTheTokensApp()
    {
        var recordsBefore = f.Subscriber.Records().Count;
        var fromExampleBefore = await f.Broker.SubscriptionAsync(Account, Victim, $"{Account}/{Victim}/{SubscriberApp}/fromExample");
        await using var tail = await SseTail.OpenAsync(f.Broker.Url, $"/{Account}/{Victim}/events", f.Broker.AdminToken);
        var sent = new Dictionary<string, string>();

        foreach (var (name, query, header, value, body) in Tricks)
        {
            foreach (var key in new[] { "test-event", "send-event" })
            {
                var prefix = name.EndsWith("courier", StringComparison.Ordinal) ? "/courier/v0" : "";
                using var request = Request(HttpMethod.Put, $"{prefix}/{Account}/{Victim}/events/{key}{query}", f.SpooferToken, body);
                if (header is not null)
                {
                    request.Headers.TryAddWithoutValidation(header, value == "VICTIM" ? f.VictimToken : value);
                }

                var (status, answer) = await f.SendAsync(request);
                Assert.True(status == 202, $"{name} {key}: {status} {answer}");
                var published = JsonSerializer.Deserialize<PublishResponse>(answer, Json)!;

                // test-event reaches anyKey (any sender); send-event is for fromExample, which only takes vtex.events-example.
                Assert.True(published.Deliveries == (key == "test-event" ? 1 : 0), $"{name} {key}: {published.Deliveries} deliveries");
                sent[published.Id] = $"{name} {key}";
            }
        }

        var ids = sent.Keys.ToHashSet();
        await Eventually.TrueAsync(() => f.Subscriber.Records().Skip(recordsBefore).Count(r => ids.Contains(r.GetProperty("eventId").GetString()!)) == Tricks.Length,
            "every test-event handled", TimeSpan.FromSeconds(30));
        await Eventually.TrueAsync(() => tail.Events.Count(e => ids.Contains(e.GetProperty("id").GetString()!)) == sent.Count, "every event on the tail", TimeSpan.FromSeconds(30));

        foreach (var record in f.Subscriber.Records().Skip(recordsBefore).Where(r => ids.Contains(r.GetProperty("eventId").GetString()!)))
        {
            var what = sent[record.GetProperty("eventId").GetString()!];
            Assert.True(record.GetProperty("sender").GetString() == Spoofer, $"{what}: delivered as {record}");
            Assert.Equal(("anyKey", Account, Victim), (record.GetProperty("handler").GetString(), record.GetProperty("account").GetString(), record.GetProperty("workspace").GetString()));
        }

        foreach (var e in tail.Events.Where(e => ids.Contains(e.GetProperty("id").GetString()!)))
        {
            Assert.True(e.GetProperty("sender").GetString() == Spoofer, $"{sent[e.GetProperty("id").GetString()!]}: tailed as {e}");
        }

        var fromExampleAfter = await f.Broker.SubscriptionAsync(Account, Victim, $"{Account}/{Victim}/{SubscriberApp}/fromExample");
        Assert.Equal((fromExampleBefore.Pending, fromExampleBefore.InFlight, fromExampleBefore.Delivered, fromExampleBefore.Dead), (fromExampleAfter.Pending, fromExampleAfter.InFlight, fromExampleAfter.Delivered, fromExampleAfter.Dead));
        Assert.DoesNotContain(f.Subscriber.Records().Skip(recordsBefore), r => r.GetProperty("handler").GetString() == "fromExample");
    }

    [Fact]
    public async Task AdminPublishRoute_WithAnAppTokenNamingASender_Is403_AndTheAppRouteRefusesTheAdminToken()
    {
        var before = await f.SnapshotAsync(Account, Victim);
        var records = f.Subscriber.Records().Count;
        await using var tail = await SseTail.OpenAsync(f.Broker.Url, $"/{Account}/{Victim}/events", f.Broker.AdminToken);

        foreach (var token in new[] { f.SpooferToken, f.VictimToken })
        {
            var (status, body) = await f.SendAsync(Request(HttpMethod.Post, $"/_herald/v1/{Account}/{Victim}/events/send-event?sender={VictimSender}", token, "{}"));
            Assert.True(status == 403, $"admin publish with an app token: {status} {body}");
        }

        foreach (var prefix in new[] { "", "/courier/v0" })
        {
            var (status, body) = await f.SendAsync(Request(HttpMethod.Put, $"{prefix}/{Account}/{Victim}/events/send-event?sender={VictimSender}", f.Broker.AdminToken, "{}"));
            Assert.True(status == 403, $"app publish route with the admin token: {status} {body}");
        }

        Assert.Equal(before, await f.SnapshotAsync(Account, Victim));
        await f.AssertOnlyMarkerReachedVictimAsync(tail, records);
    }
}

/// <summary>The same attacks against a broker on the NATS JetStream store.</summary>
[Collection(NatsSecuritySuite.Name)]
public sealed class SenderSpoofingTestsOnNats(NatsSecurityFixture f) : SenderSpoofingTests(f);
