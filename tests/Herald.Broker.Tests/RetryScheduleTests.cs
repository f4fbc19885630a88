using Herald.Broker.Admin;
using Herald.Storage.Sqlite;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Broker.Tests;

/// <summary>The waits and timeouts between attempts follow the subscription's policy, on a fake clock.</summary>
public sealed class RetryScheduleTests : IAsyncLifetime
{
    private const string SubscriptionId = "acme/dev/vtex.live-users/h";

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));
    private BrokerHarness _broker = null!;
    private FakeApp _app = null!;

    public async Task InitializeAsync()
    {
        _broker = await BrokerHarness.StartAsync(_clock);
        _app = await FakeApp.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _broker.DisposeAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The due time of the retry, once the failed attempt's outcome is written (call after the attempt arrived).</summary>
    private async Task<DateTimeOffset> RetryDueAsync(SqliteEventStore store, string what)
    {
        await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync("acme", "dev", SubscriptionId), s => s.Pending == 1 && s.InFlight == 0, what);
        return (await store.NextDueAsync(SubscriptionId))!.Value;
    }

    [Fact]
    public async Task Attempts_TimeOutAfterGrowingTimeouts_AndWaitTheExponentialBackoffBetweenThem()
    {
        await _broker.LinkAsync("acme", "dev", "vtex", "live-users",
            """{"events":{"h":{"keys":["k"],"delivery":{"retries":2,"timeout":1000,"exponentialTimeoutCoefficient":2,"initialBackoffDelay":10000,"exponentialBackoffCoefficient":3}}}}""",
            _app.Endpoint);
        var token = (await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", _app.Endpoint)).Token;
        var store = _broker.Services.GetRequiredService<SqliteEventStore>();
        _app.Respond = async (r, ct) =>
        {
            if (r.Headers[HeraldHeaders.EventAttempt] is "1" or "2")
            {
                await Task.Delay(Timeout.Infinite, ct);
            }

            return Results.NoContent();
        };

        using var _ = await _broker.PublishAsync(token, "acme", "dev", "k", "{}");
        await Eventually.TrueAsync(() => _app.Requests.Count == 1, "attempt 1");

        // Attempt 1 times out after timeout × 2^0 = 1000 ms; retry 1 waits 10000 × 3^0 × (1 + 0.2U).
        var attempt1TimedOut = _clock.GetUtcNow().AddMilliseconds(1000);
        _clock.Advance(TimeSpan.FromMilliseconds(1000));
        var due1 = await RetryDueAsync(store, "retry 1 scheduled");
        Assert.InRange(due1, attempt1TimedOut.AddMilliseconds(10000), attempt1TimedOut.AddMilliseconds(12000));
        Assert.Single(_app.Requests);

        _clock.SetUtcNow(due1);
        await Eventually.TrueAsync(() => _app.Requests.Count == 2, "attempt 2");

        // Attempt 2 times out after 1000 × 2^1 = 2000 ms; retry 2 waits 10000 × 3^1 × (1 + 0.2U).
        var attempt2TimedOut = _clock.GetUtcNow().AddMilliseconds(2000);
        _clock.Advance(TimeSpan.FromMilliseconds(2000));
        var due2 = await RetryDueAsync(store, "retry 2 scheduled");
        Assert.InRange(due2, attempt2TimedOut.AddMilliseconds(30000), attempt2TimedOut.AddMilliseconds(36000));

        _clock.SetUtcNow(due2);
        var subscription = await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync("acme", "dev", SubscriptionId), s => s.Delivered == 1, "delivered on attempt 3");
        Assert.Equal(0, subscription.Dead);
        Assert.Equal(["1", "2", "3"], _app.Requests.Select(r => r.Headers[HeraldHeaders.EventAttempt]));
    }

    [Fact]
    public async Task TooManyRequests_RetriesAfterTheAppsRetryAfter_CappedByMaxBackoffDelay()
    {
        await _broker.LinkAsync("acme", "dev", "vtex", "live-users",
            """{"events":{"h":{"keys":["k"],"delivery":{"retries":3,"initialBackoffDelay":10,"maxBackoffDelay":60000}}}}""",
            _app.Endpoint);
        var token = (await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", _app.Endpoint)).Token;
        var store = _broker.Services.GetRequiredService<SqliteEventStore>();
        _app.Respond = (r, _) => Task.FromResult<IResult>(r.Headers[HeraldHeaders.EventAttempt] == "1" ? new RetryAfterResult(3600) : Results.NoContent());

        var published = _clock.GetUtcNow();
        using var _ = await _broker.PublishAsync(token, "acme", "dev", "k", "{}");
        await Eventually.TrueAsync(() => _app.Requests.Count == 1, "attempt 1");
        var due = await RetryDueAsync(store, "retry scheduled after 429");

        Assert.Equal(published.AddMilliseconds(60000), due);
        _clock.SetUtcNow(due);
        await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync("acme", "dev", SubscriptionId), s => s.Delivered == 1, "delivered");
    }

    private sealed class RetryAfterResult(int seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = 429;
            httpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        }
    }
}
