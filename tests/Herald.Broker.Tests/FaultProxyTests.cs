using System.Net;
using System.Net.Http.Json;
using Herald.Broker.Admin;
using Herald.Broker.Dispatching;
using Herald.Delivery;
using Herald.Protocol;
using Xunit.Abstractions;

namespace Herald.Broker.Tests;

/// <summary>
/// Deliveries through a TCP proxy that delays, cuts and resets the broker's connections to the app (DESIGN §3, §5, §6):
/// nothing accepted is lost, duplicates are possible, and attempts follow the subscription's policy.
/// </summary>
public sealed class FaultProxyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string SubscriptionId = "acme/dev/vtex.live-users/h";

    /// <summary>Stored attempt times are whole milliseconds (start and due time both truncated).</summary>
    private static readonly TimeSpan StoreGranularity = TimeSpan.FromMilliseconds(2);

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

    /// <summary>Links the listener behind <paramref name="proxy"/> with <paramref name="delivery"/> and the sender; returns the sender's token.</summary>
    private async Task<string> LinkAsync(FaultProxy proxy, string delivery)
    {
        await _broker.LinkAsync("acme", "dev", "vtex", "live-users", $$$$"""{"events":{"h":{"keys":["k"],"delivery":{{{{delivery}}}}}}}""", proxy.Url);
        return (await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", _app.Endpoint)).Token;
    }

    private async Task<string> PublishAsync(string token, string body)
    {
        using var response = await _broker.PublishAsync(token, "acme", "dev", "k", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PublishResponse>())!.Id;
    }

    private Task<DeadLettersResponse> DeadLettersAsync() => _broker.AdminGetAsync<DeadLettersResponse>("/_herald/v1/acme/dev/deadletters");

    private ReceivedRequest[] Received(string eventId) => _app.Requests.Where(r => r.Headers[HeraldHeaders.EventId] == eventId).ToArray();

    [Fact]
    public async Task MixedDelaysCutsAndResets_EveryAcceptedEventIsDeliveredAndNoneIsDead()
    {
        const int events = 300;
        await using var proxy = FaultProxy.Start(_app.Endpoint,
            FaultProxy.Mix(seed: 20261127, delay: 0.10, cut: 0.08, reset: 0.08, midResponse: 0.08, maxDelay: TimeSpan.FromMilliseconds(50)));
        var token = await LinkAsync(proxy, """{"retries":10,"initialBackoffDelay":10,"timeout":2000}""");

        var ids = new List<string>(events);
        for (var i = 0; i < events; i++)
        {
            ids.Add(await PublishAsync(token, $$"""{"n":{{i}}}"""));
        }

        var subscription = await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync("acme", "dev", SubscriptionId),
            s => s.Delivered == events || s.Dead > 0, $"{events} delivered ({proxy})", TimeSpan.FromSeconds(45));

        output.WriteLine($"proxy: {proxy}; app requests {_app.Requests.Count} for {events} events");
        Assert.Equal(0, subscription.Dead);
        Assert.Equal(events, subscription.Delivered);
        Assert.Equal(0, subscription.Pending + subscription.InFlight);
        var seen = _app.Requests.Select(r => r.Headers[HeraldHeaders.EventId]).ToHashSet(StringComparer.Ordinal);
        var missing = ids.Where(id => !seen.Contains(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} accepted events never reached the app, e.g. {missing.FirstOrDefault()}");
        Assert.Equal(events, seen.Count);
        Assert.True(proxy.Injected(FaultKind.Delay) > 0, proxy.ToString());
        Assert.True(proxy.Injected(FaultKind.Cut) > 0, proxy.ToString());
        Assert.True(proxy.Injected(FaultKind.Reset) > 0, proxy.ToString());
        Assert.True(proxy.Injected(FaultKind.CutMidResponse) > 0, proxy.ToString());
        Assert.True(proxy.Injected(FaultKind.ResetMidResponse) > 0, proxy.ToString());
        // Kept-alive connections carried several requests each, and every request the proxy forwarded reached the app.
        Assert.True(proxy.Requests > proxy.Connections, proxy.ToString());
        Assert.Equal(proxy.Forwarded, _app.Requests.Count);
    }

    [Theory]
    [InlineData(FaultKind.Reset)]
    [InlineData(FaultKind.Cut)]
    public async Task EveryConnectionBroken_DeadLettersAfterRetriesPlusOneAttempts_SpacedAtLeastByTheBackoff(FaultKind kind)
    {
        var policy = new DeliveryPolicy { Retries = 3, InitialBackoffDelay = 100, ExponentialBackoffCoefficient = 2, Timeout = 5000 };
        await using var proxy = FaultProxy.Start(_app.Endpoint, () => Fault.Of(kind));
        var token = await LinkAsync(proxy, """{"retries":3,"initialBackoffDelay":100,"exponentialBackoffCoefficient":2,"timeout":5000}""");

        var id = await PublishAsync(token, "{}");
        var letter = (await Eventually.ReturnsAsync(DeadLettersAsync, d => d.DeadLetters.Count == 1, $"a dead letter ({proxy})")).DeadLetters[0];

        Assert.Equal(id, letter.EventId);
        Assert.Equal($"{OutcomeClassifier.RetriesExhaustedReason}: {policy.MaxAttempts} attempts failed", letter.Reason);
        Assert.Equal(Enumerable.Range(1, policy.MaxAttempts), letter.Attempts.Select(a => a.Attempt));
        Assert.All(letter.Attempts, a =>
        {
            Assert.Null(a.Status);
            Assert.StartsWith("network:", a.Error, StringComparison.Ordinal);
        });
        for (var retry = 1; retry < letter.Attempts.Count; retry++)
        {
            var previous = letter.Attempts[retry - 1];
            var gap = letter.Attempts[retry].At - previous.At;
            var least = TimeSpan.FromMilliseconds(previous.DurationMs) + policy.BackoffDelay(retry, 0) - StoreGranularity;
            Assert.True(gap >= least, $"retry {retry} started {gap.TotalMilliseconds} ms after attempt {retry}, less than its duration plus the minimum backoff ({least.TotalMilliseconds} ms)");
        }

        Assert.Equal(policy.MaxAttempts, proxy.Requests);
        Assert.Equal(policy.MaxAttempts, proxy.Injected(kind));
        Assert.Empty(_app.Requests);
        var subscription = await _broker.SubscriptionAsync("acme", "dev", SubscriptionId);
        Assert.Equal((0, 0, 1), (subscription.Delivered, subscription.Pending + subscription.InFlight, subscription.Dead));
    }

    [Fact]
    public async Task DelayLongerThanTheTimeout_IsRecordedAsATimeout_AndTheNextAttemptGetsTheGrownTimeout()
    {
        var policy = new DeliveryPolicy { Retries = 1, Timeout = 200, ExponentialTimeoutCoefficient = 5, InitialBackoffDelay = 10 };
        await using var proxy = FaultProxy.Start(_app.Endpoint, () => Fault.Hold(TimeSpan.FromMilliseconds(2500)));
        var token = await LinkAsync(proxy, """{"retries":1,"timeout":200,"exponentialTimeoutCoefficient":5,"initialBackoffDelay":10}""");

        await PublishAsync(token, "{}");
        var letter = (await Eventually.ReturnsAsync(DeadLettersAsync, d => d.DeadLetters.Count == 1, $"a dead letter ({proxy})")).DeadLetters[0];

        Assert.StartsWith(OutcomeClassifier.RetriesExhaustedReason, letter.Reason, StringComparison.Ordinal);
        Assert.Equal([1, 2], letter.Attempts.Select(a => a.Attempt));
        for (var attempt = 1; attempt <= 2; attempt++)
        {
            var record = letter.Attempts[attempt - 1];
            var timeout = policy.AttemptTimeout(attempt);
            Assert.Null(record.Status);
            Assert.Equal($"timeout: no answer within {timeout.TotalMilliseconds:0} ms", record.Error);
            // The timer may fire up to a clock tick early; it never gives up long before the attempt's timeout.
            Assert.True(record.DurationMs >= timeout.TotalMilliseconds - 10, $"attempt {attempt} gave up after {record.DurationMs} ms, before its {timeout.TotalMilliseconds} ms timeout");
        }

        Assert.Equal(2, proxy.Injected(FaultKind.Delay));
    }

    [Fact]
    public async Task DelayBetweenTheFirstAndTheGrownTimeout_TimesOutOnceThenIsDelivered()
    {
        // Attempt 1 has 200 ms, attempt 2 has 200 × 10 = 2000 ms; the proxy holds each request 800 ms.
        await using var proxy = FaultProxy.Start(_app.Endpoint, () => Fault.Hold(TimeSpan.FromMilliseconds(800)));
        var token = await LinkAsync(proxy, """{"retries":1,"timeout":200,"exponentialTimeoutCoefficient":10,"initialBackoffDelay":10}""");

        var id = await PublishAsync(token, "{}");
        var subscription = await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync("acme", "dev", SubscriptionId),
            s => s.Delivered == 1 || s.Dead == 1, $"delivered ({proxy})");

        Assert.Equal((1, 0, 0), (subscription.Delivered, subscription.Pending + subscription.InFlight, subscription.Dead));
        Assert.Contains("2", Received(id).Select(r => r.Headers[HeraldHeaders.EventAttempt]));
        Assert.Equal(2, proxy.Injected(FaultKind.Delay));
    }

    [Theory]
    [InlineData(FaultKind.CutMidResponse)]
    [InlineData(FaultKind.ResetMidResponse)]
    public async Task ResponseLostAfterTheAppHandledTheEvent_IsDeliveredAgain_AtLeastOnce(FaultKind kind)
    {
        await using var proxy = FaultProxy.Start(_app.Endpoint);
        proxy.Script(Fault.Of(kind));
        var token = await LinkAsync(proxy, """{"retries":3,"initialBackoffDelay":10,"timeout":5000}""");

        var id = await PublishAsync(token, """{"order":17}""");
        var subscription = await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync("acme", "dev", SubscriptionId),
            s => s.Delivered == 1 || s.Dead == 1, $"delivered ({proxy})");

        Assert.Equal((1, 0, 0), (subscription.Delivered, subscription.Pending + subscription.InFlight, subscription.Dead));
        Assert.Equal(["1", "2"], Received(id).Select(r => r.Headers[HeraldHeaders.EventAttempt]));
        Assert.All(Received(id), r => Assert.Equal("""{"order":17}""", System.Text.Encoding.UTF8.GetString(r.Body)));
        Assert.Equal(1, proxy.Injected(kind));
        Assert.Equal(2, proxy.Forwarded);
    }
}
