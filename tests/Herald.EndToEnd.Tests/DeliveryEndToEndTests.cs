using System.Net;
using System.Text.Json;
using Herald.Broker.Admin;

namespace Herald.EndToEnd.Tests;

/// <summary>A real broker process and real app processes on loopback.</summary>
public sealed class DeliveryEndToEndTests : IAsyncLifetime
{
    private const string Account = "e2e";
    private BrokerProcess _broker = null!;

    public async Task InitializeAsync() => _broker = await BrokerProcess.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    private static string Sub(string workspace, string handler) => $"{Account}/{workspace}/test.subscriber/{handler}";

    private static List<JsonElement> For(IEnumerable<JsonElement> records, string eventId) =>
        records.Where(r => r.GetProperty("eventId").GetString() == eventId).OrderBy(r => r.GetProperty("attempt").GetInt32()).ToList();

    [Fact]
    public async Task EventFiredInOneWorkspace_NeverReachesAnotherWorkspace_NorAHandlerWhoseSenderOrKeyDiffers()
    {
        await using var inA = await AppProcess.StartAsync(_broker, Repo.TestSubscriberFolder, Account, "a");
        await using var inB = await AppProcess.StartAsync(_broker, Repo.TestSubscriberFolder, Account, "b");

        var toA = await _broker.SendAsync(Account, "a", "vtex.events-example", "send-event", """{"n":1}""");
        var wrongKey = await _broker.SendAsync(Account, "b", "vtex.events-example", "not-listened", """{"n":2}""");
        var wrongSender = await _broker.SendAsync(Account, "b", "vtex.someone-else", "send-event", """{"n":3}""");
        var anySender = await _broker.SendAsync(Account, "b", "vtex.someone-else", "test-event", """{"n":4}""");

        Assert.Equal((1, 0, 0, 1), (toA.Deliveries, wrongKey.Deliveries, wrongSender.Deliveries, anySender.Deliveries));
        await Eventually.TrueAsync(() => inA.Records().Count == 1 && inB.Records().Count == 1, "one delivery in each workspace");
        foreach (var (workspace, handler, delivered) in new[] { ("a", "anyKey", 0), ("a", "fromExample", 1), ("b", "anyKey", 1), ("b", "fromExample", 0) })
        {
            var s = await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync(Account, workspace, Sub(workspace, handler)), s => s.Pending + s.InFlight == 0, $"{workspace}/{handler} settled");
            Assert.Equal((delivered, 0L), (s.Delivered, s.Dead));
        }

        var a = Assert.Single(inA.Records());
        Assert.Equal(toA.Id, a.GetProperty("eventId").GetString());
        Assert.Equal("fromExample", a.GetProperty("handler").GetString());
        Assert.Equal("a", a.GetProperty("workspace").GetString());
        var b = Assert.Single(inB.Records());
        Assert.Equal(anySender.Id, b.GetProperty("eventId").GetString());
        Assert.Equal("anyKey", b.GetProperty("handler").GetString());
        Assert.Equal("vtex.someone-else", b.GetProperty("sender").GetString());
    }

    [Fact]
    public async Task HandlerFailingTwiceWith500_IsDeliveredOnAttempt3_AfterAtLeastThePolicysBackoff()
    {
        await using var app = await AppProcess.StartAsync(_broker, Repo.TestSubscriberFolder, Account, "dev");

        var sent = await _broker.SendAsync(Account, "dev", "vtex.any", "test-event", """{"failAttempts":{"1":500,"2":500}}""");

        await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync(Account, "dev", Sub("dev", "anyKey")), s => s.Delivered == 1, "delivered");
        var attempts = For(app.Records(), sent.Id);
        Assert.Equal([1, 2, 3], attempts.Select(r => r.GetProperty("attempt").GetInt32()));
        Assert.Equal(["500", "500", "204"], attempts.Select(r => r.GetProperty("outcome").ToString()));

        // The policy (tests/apps/test-subscriber/dotnet/service.json) waits initialBackoffDelay 200 ms × 2^(k−1) × (1 + 0.2U)
        // before retry k: the broker can never retry sooner than that lower bound.
        var gap1 = attempts[1].GetProperty("at").GetDateTimeOffset() - attempts[0].GetProperty("finishedAt").GetDateTimeOffset();
        var gap2 = attempts[2].GetProperty("at").GetDateTimeOffset() - attempts[1].GetProperty("finishedAt").GetDateTimeOffset();
        Assert.True(gap1 >= TimeSpan.FromMilliseconds(200), $"retry 1 came {gap1.TotalMilliseconds} ms after attempt 1");
        Assert.True(gap2 >= TimeSpan.FromMilliseconds(400), $"retry 2 came {gap2.TotalMilliseconds} ms after attempt 2");
    }

    [Fact]
    public async Task SlowHandler_TimesOutOnAttempt1_AndSucceedsOnAttempt2WhoseTimeoutIsDoubled()
    {
        await using var app = await AppProcess.StartAsync(_broker, Repo.TestSubscriberFolder, Account, "dev");

        // timeout 2000 ms, exponentialTimeoutCoefficient 2: attempt 1 gets 2000 ms, attempt 2 gets 4000 ms.
        var sent = await _broker.SendAsync(Account, "dev", "vtex.any", "test-event", """{"delayMs":2500}""");

        await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync(Account, "dev", Sub("dev", "anyKey")), s => s.Delivered == 1, "delivered");
        var attempts = For(app.Records(), sent.Id);
        Assert.Equal(2, attempts.Count);
        Assert.Equal("cancelled", attempts[0].GetProperty("outcome").ToString());
        Assert.Equal("204", attempts[1].GetProperty("outcome").ToString());
    }

    [Fact]
    public async Task HandlerAnswering400_IsDeadLetteredAtOnce_AndRedriveDeliversItOnceFixed()
    {
        await using var app = await AppProcess.StartAsync(_broker, Repo.TestSubscriberFolder, Account, "dev");

        var sent = await _broker.SendAsync(Account, "dev", "vtex.any", "test-event", """{"failUntilFixed":400}""");
        var dead = await Eventually.ReturnsAsync(
            () => _broker.AdminAsync<DeadLettersResponse>(HttpMethod.Get, $"/_herald/v1/{Account}/dev/deadletters"),
            d => d.DeadLetters.Count == 1, "a dead letter");

        var letter = dead.DeadLetters[0];
        Assert.Equal(sent.Id, letter.EventId);
        Assert.Equal(400, Assert.Single(letter.Attempts).Status);
        Assert.Contains("failUntilFixed", letter.Attempts[0].Error, StringComparison.Ordinal);
        Assert.Single(For(app.Records(), sent.Id));

        using (var fix = await _broker.Client.PostAsync($"/{Account}/dev/_v/test/fix", null))
        {
            Assert.Equal(HttpStatusCode.OK, fix.StatusCode);
        }

        var redriven = await _broker.AdminAsync<RedriveResponse>(HttpMethod.Post, $"/_herald/v1/{Account}/dev/deadletters/redrive", new RedriveRequest([letter.Id], null, null));
        Assert.Equal(1, redriven.Redriven);
        await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync(Account, "dev", Sub("dev", "anyKey")), s => s.Delivered == 1 && s.Dead == 0, "delivered after redrive");
        var attempts = For(app.Records(), sent.Id);
        Assert.Equal(["400", "204"], attempts.Select(r => r.GetProperty("outcome").ToString()));
        Assert.Equal(1, attempts[1].GetProperty("attempt").GetInt32());
    }

    [Fact]
    public async Task BrokerKilledWithSigkill_WhileDeliveriesArePending_LosesNoneAfterRestart()
    {
        await using var app = await AppProcess.StartAsync(_broker, Repo.TestSubscriberFolder, Account, "dev");
        // Each handler call takes 500 ms and anyKey delivers 10 at a time, so the 200 take at least 10 s to deliver:
        // far longer than sending them, so some are still pending when the broker is killed, however fast delivery is.
        const int Events = 200;
        var ids = new List<string>();
        for (var i = 0; i < Events; i++)
        {
            ids.Add((await _broker.SendAsync(Account, "dev", "vtex.any", "test-event", $$"""{"delayMs":500,"n":{{i}}}""")).Id);
        }

        var before = await _broker.SubscriptionAsync(Account, "dev", Sub("dev", "anyKey"));
        Assert.True(before.Pending + before.InFlight > 0, "deliveries should still be pending when the broker is killed");

        await _broker.KillAsync();
        await _broker.RestartAsync();

        await Eventually.TrueAsync(
            () => app.Records().Where(r => r.GetProperty("outcome").ToString() == "204").Select(r => r.GetProperty("eventId").GetString()).ToHashSet().IsSupersetOf(ids),
            "every accepted event handled after the restart", TimeSpan.FromSeconds(120));
        var after = await _broker.SubscriptionAsync(Account, "dev", Sub("dev", "anyKey"));
        Assert.Equal(0, after.Dead);
    }

    [Fact]
    public async Task SubscriberKilledWithSigkillMidHandler_GetsTheEventAgainOnceItIsBack()
    {
        await using var app = await AppProcess.StartAsync(_broker, Repo.TestSubscriberFolder, Account, "dev");

        // fromExample has the default policy: 8 retries, 1 s doubling backoff, 10 s timeout: time enough to come back.
        // The handler takes 8 s, so the first attempt is still running when the app is killed.
        var sent = await _broker.SendAsync(Account, "dev", "vtex.events-example", "send-event", """{"delayMs":8000}""");
        await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync(Account, "dev", Sub("dev", "fromExample")), s => s.InFlight == 1, "the attempt in flight");

        app.Process.KillHard();
        await app.Process.WaitForExitAsync();
        Assert.Empty(For(app.Records(), sent.Id));
        await app.RestartAsync();

        var subscription = await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync(Account, "dev", Sub("dev", "fromExample")), s => s.Delivered == 1, "delivered after the restart", TimeSpan.FromSeconds(120));
        Assert.Equal(0, subscription.Dead);
        var handled = For(app.Records(), sent.Id);
        Assert.Equal("204", handled[^1].GetProperty("outcome").ToString());
        Assert.True(handled[^1].GetProperty("attempt").GetInt32() >= 2, "the event was delivered again, not for the first time");
    }

    [Fact]
    public async Task GracefulShutdown_LetsTheAttemptInFlightFinish_AndNothingIsDeliveredTwiceAfterRestart()
    {
        await using var app = await AppProcess.StartAsync(_broker, Repo.TestSubscriberFolder, Account, "dev");
        var sent = await _broker.SendAsync(Account, "dev", "vtex.events-example", "send-event", """{"delayMs":3000}""");
        await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync(Account, "dev", Sub("dev", "fromExample")), s => s.InFlight == 1, "the attempt in flight");

        Assert.Equal(0, await _broker.StopGracefullyAsync());

        var handled = Assert.Single(For(app.Records(), sent.Id));
        Assert.Equal("204", handled.GetProperty("outcome").ToString());
        await _broker.RestartAsync();
        var subscription = await _broker.SubscriptionAsync(Account, "dev", Sub("dev", "fromExample"));
        Assert.Equal((1L, 0L, 0L), (subscription.Delivered, subscription.Pending + subscription.InFlight, subscription.Dead));
    }
}
