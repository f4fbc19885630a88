using System.Net;
using System.Text.Json;
using Herald.Protocol;
using Herald.Storage;
using Herald.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Broker.Tests;

/// <summary>
/// A store that cannot open a subscription's queue for a while (a cluster electing its leaders): the link still
/// answers, /readyz names the subscription, and its events are delivered once a retry opens the queue.
/// </summary>
public sealed class QueueOpenRetryTests
{
    [Fact]
    public async Task AQueueTheStoreCannotOpenYet_IsRetried_AndItsEventsAreDeliveredOnceItOpens()
    {
        var store = (FailingOpens?)null;
        await using var broker = await BrokerHarness.StartAsync(
            configure: o => o.PollInterval = TimeSpan.FromMilliseconds(100),
            services: s => s.AddSingleton<IEventStore>(sp => store = new FailingOpens(sp.GetRequiredService<SqliteEventStore>())));
        await using var app = await FakeApp.StartAsync();
        await broker.LinkAsync("acme", "dev", "vtex", "live-users", """{"events":{"onSend":{"keys":["send-event"]}}}""", app.Endpoint);
        var sender = (await broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", app.Endpoint)).Token;
        const string SubscriptionId = "acme/dev/vtex.live-users/onSend";

        var degraded = await Eventually.ReturnsAsync(ReadinessAsync, r => r.Delivery.Contains(SubscriptionId, StringComparison.Ordinal), "/readyz naming the unopened queue");
        using (var published = await broker.PublishAsync(sender, "acme", "dev", "send-event", """{"n":1}"""))
        {
            Assert.Equal(HttpStatusCode.Accepted, published.StatusCode);
        }

        Assert.Equal("Degraded", degraded.Status);
        Assert.Contains("could not open the queue", degraded.Delivery, StringComparison.Ordinal);
        Assert.True(store!.FailedOpens > 1, $"The queue was tried {store.FailedOpens} times while it could not open: the broker should retry it.");
        Assert.DoesNotContain(app.Requests, r => r.Path.EndsWith("/_events", StringComparison.Ordinal));

        store.Allow();
        await Eventually.TrueAsync(() => app.Requests.Any(r => r.Path.EndsWith("/_events", StringComparison.Ordinal)), "the event delivered once the queue opened");
        var delivery = app.Requests.Single(r => r.Path.EndsWith("/_events", StringComparison.Ordinal));
        Assert.Equal("onSend", delivery.Headers[HeraldHeaders.EventHandlerId]);
        var healthy = await Eventually.ReturnsAsync(ReadinessAsync, r => r.Status == "Healthy", "/readyz healthy again");
        Assert.Equal("Every subscription's worker is running.", healthy.Delivery);

        async Task<(string Status, string Delivery)> ReadinessAsync()
        {
            using var ready = await broker.Client.GetAsync(new Uri("/readyz", UriKind.Relative));
            using var report = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
            return (report.RootElement.GetProperty("status").GetString()!,
                report.RootElement.GetProperty("checks").GetProperty("delivery").GetProperty("description").GetString()!);
        }
    }

    /// <summary>The SQLite store, except that opening a queue fails as an unavailable cluster's does until <see cref="Allow"/>.</summary>
    private sealed class FailingOpens(SqliteEventStore inner) : IEventStore
    {
        private volatile bool _allowed;
        private int _failedOpens;

        public int FailedOpens => Volatile.Read(ref _failedOpens);

        public void Allow() => _allowed = true;

        public ValueTask<IDeliveryQueue> OpenQueueAsync(string subscriptionId, CancellationToken cancellationToken = default)
        {
            if (!_allowed)
            {
                Interlocked.Increment(ref _failedOpens);
                throw new StoreUnavailableException($"Consumer for {subscriptionId} has no leader yet.", null);
            }

            return inner.OpenQueueAsync(subscriptionId, cancellationToken);
        }

        public ValueTask InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public ValueTask<AppendResult> AppendAsync(HeraldEvent evt, IReadOnlyList<string> subscriptionIds, string? idempotencyKey, CancellationToken cancellationToken = default) =>
            inner.AppendAsync(evt, subscriptionIds, idempotencyKey, cancellationToken);

        public ValueTask SubscriptionChangedAsync(SubscriptionSpec subscription, CancellationToken cancellationToken = default) => inner.SubscriptionChangedAsync(subscription, cancellationToken);

        public ValueTask<int> SubscriptionRemovedAsync(string subscriptionId, string reason, CancellationToken cancellationToken = default) => inner.SubscriptionRemovedAsync(subscriptionId, reason, cancellationToken);

        public ValueTask<IReadOnlyDictionary<string, DeliveryCounts>> CountAsync(IReadOnlyCollection<string> subscriptionIds, CancellationToken cancellationToken = default) => inner.CountAsync(subscriptionIds, cancellationToken);

        public ValueTask<IReadOnlyDictionary<string, DateTimeOffset>> OldestUndeliveredAsync(IReadOnlyCollection<string> subscriptionIds, CancellationToken cancellationToken = default) => inner.OldestUndeliveredAsync(subscriptionIds, cancellationToken);

        public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);
    }
}
