using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Herald.Broker.Admin;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Herald.Broker.Tests;

/// <summary>What the broker logs for an operator: dead letters, admin actions, refused credentials; never a token.</summary>
public sealed class LoggingTests : IAsyncLifetime
{
    private BrokerHarness _broker = null!;
    private FakeApp _app = null!;
    private FakeLogCollector _logs = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrokerHarness.StartAsync(services: services => services.AddLogging(logging => logging.AddFakeLogging().SetMinimumLevel(LogLevel.Debug)));
        _logs = _broker.Services.GetFakeLogCollector();
        _app = await FakeApp.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _app.DisposeAsync();
    }

    private IReadOnlyList<FakeLogRecord> Logged(string category) => _logs.GetSnapshot().Where(r => r.Category == category).ToList();

    [Fact]
    public async Task ADeadLetter_IsAWarningNamingTheEventSubscriptionReasonAndLastAnswer()
    {
        await _broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events": {"h": {"keys": ["k"], "delivery": {"retries": 1, "initialBackoffDelay": 1}}}}""", _app.Endpoint);
        var sender = await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", _app.Endpoint);
        _app.Respond = (_, _) => Task.FromResult(Results.StatusCode(503));

        using var published = await _broker.PublishAsync(sender.Token, "acme", "dev", "k", """{"x":1}""");
        var eventId = (await published.Content.ReadFromJsonAsync<PublishResponse>())!.Id;
        var line = await Eventually.ReturnsAsync(
            () => Task.FromResult(_logs.GetSnapshot().FirstOrDefault(r => r.Message.StartsWith("Dead-lettered", StringComparison.Ordinal))),
            r => r is not null,
            "the dead letter's log line");

        Assert.Equal(LogLevel.Warning, line!.Level);
        Assert.Equal($"Dead-lettered event {eventId} (k from vtex.events-example) for acme/dev/vtex.live-users/h in acme/dev after attempt 2: retries-exhausted: 2 attempts failed (HTTP 503)", line.Message);
    }

    [Fact]
    public async Task EveryAdminAction_WritesAnAuditLine()
    {
        var linked = await _broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events": {"h": {"keys": ["k"]}}}""", _app.Endpoint);
        using var redrive = _broker.Admin(HttpMethod.Post, "/_herald/v1/acme/dev/deadletters/redrive");
        redrive.Content = JsonContent.Create(new RedriveRequest(null, "acme/dev/vtex.live-users/h", null));
        using var redriven = await _broker.Client.SendAsync(redrive);
        using var purge = _broker.Admin(HttpMethod.Post, "/_herald/v1/acme/dev/deadletters/purge");
        purge.Content = JsonContent.Create(new RedriveRequest(["1", "2"], null, null));
        using var purged = await _broker.Client.SendAsync(purge);
        using var replay = _broker.Admin(HttpMethod.Post, "/_herald/v1/acme/dev/apps/vtex.live-users/subscriptions/h/replay");
        replay.Content = JsonContent.Create(new { since = "2026-01-01T00:00:00Z" });
        using var replayed = await _broker.Client.SendAsync(replay);
        using var unlink = _broker.Admin(HttpMethod.Delete, "/_herald/v1/acme/dev/apps/vtex.live-users");
        using var unlinked = await _broker.Client.SendAsync(unlink);

        Assert.All(new[] { redriven, purged, replayed, unlinked }, r => Assert.True(r.IsSuccessStatusCode, $"{r.RequestMessage!.RequestUri}: {(int)r.StatusCode}"));
        var audit = Logged(HeraldBroker.AuditLogCategory).Select(r => r.Message).ToList();
        Assert.Equal(
            [
                $"Audit: linked vtex.live-users in acme/dev at {_app.Endpoint.ToString().TrimEnd('/')} (1 subscriptions), from 127.0.0.1",
                "Audit: redrove 0 dead letters in acme/dev (subscription acme/dev/vtex.live-users/h), from 127.0.0.1",
                "Audit: purged 0 dead letters in acme/dev (2 ids), from 127.0.0.1",
                "Audit: replayed 0 events to acme/dev/vtex.live-users/h in acme/dev since 2026-01-01T00:00:00.0000000+00:00, from 127.0.0.1",
                "Audit: unlinked vtex.live-users from acme/dev, from 127.0.0.1",
            ],
            audit);
        Assert.DoesNotContain(_logs.GetSnapshot(), r => r.Message.Contains(linked.Token, StringComparison.Ordinal) || r.Message.Contains(_broker.AdminToken, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RefusedCredentials_AreLoggedWithoutTheToken()
    {
        var app = await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", _app.Endpoint);
        const string Guessed = "not-a-real-token-0123456789";

        using var unknown = await _broker.PublishAsync(Guessed, "acme", "dev", "k", "{}");
        using var otherWorkspace = await _broker.PublishAsync(app.Token, "acme", "prod", "k", "{}");
        using var admin = new HttpRequestMessage(HttpMethod.Get, "/_herald/v1/acme/dev/apps");
        admin.Headers.Authorization = new AuthenticationHeaderValue("Bearer", app.Token);
        using var notAdmin = await _broker.Client.SendAsync(admin);
        using var missing = await _broker.PublishAsync(null, "acme", "dev", "k", "{}");

        Assert.Equal(
            [HttpStatusCode.Unauthorized, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Unauthorized],
            new[] { unknown.StatusCode, otherWorkspace.StatusCode, notAdmin.StatusCode, missing.StatusCode });
        var refused = Logged("Herald.Broker.Http.BrokerAuth");
        Assert.Equal(
            [
                (LogLevel.Warning, "Refused PUT /acme/dev/events/k from 127.0.0.1: the bearer token is not the admin token nor a linked app's"),
                (LogLevel.Warning, "Refused PUT /acme/prod/events/k from 127.0.0.1: the token of vtex.events-example in acme/dev used for acme/prod"),
                (LogLevel.Warning, "Refused GET /_herald/v1/acme/dev/apps from 127.0.0.1: the admin API called with the app token of vtex.events-example in acme/dev"),
                (LogLevel.Debug, "Refused PUT /acme/dev/events/k from 127.0.0.1: no bearer token"),
            ],
            refused.Select(r => (r.Level, r.Message)).ToList());
        Assert.DoesNotContain(_logs.GetSnapshot(), r => r.Message.Contains(Guessed, StringComparison.Ordinal) || r.Message.Contains(app.Token, StringComparison.Ordinal));
    }
}
