using System.Net;
using Herald.Storage;
using Herald.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Broker.Tests;

/// <summary>A cluster store that cannot confirm a commit in time: the 503 says the event may still be stored.</summary>
public sealed class UnconfirmedPublishTests
{
    private const string SenderService = """{"routes":{"hcheck":{"path":"/_v/app/events-example/hcheck","public":true}}}""";

    [Fact]
    public async Task Publish_WhoseCommitTheStoreCannotConfirm_Answers503SayingItMayBeStored_AndToResendWithTheSameKey()
    {
        await using var broker = await BrokerHarness.StartAsync(services: s => s.AddSingleton<IEventStore>(sp => new UnconfirmedAppends(sp.GetRequiredService<SqliteEventStore>())));
        await using var app = await FakeApp.StartAsync();
        var token = (await broker.LinkAsync("acme", "dev", "vtex", "events-example", SenderService, app.Endpoint)).Token;

        using var response = await broker.PublishAsync(token, "acme", "dev", "send-event", """{"n":1}""", idempotencyKey: "k-1");
        var detail = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("may still be stored", detail, StringComparison.Ordinal);
        Assert.Contains("same Idempotency-Key", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("nothing was stored", detail, StringComparison.Ordinal);
    }

    /// <summary>The SQLite store, except that every append ends as a cluster's unconfirmed commit does.</summary>
    private sealed class UnconfirmedAppends(SqliteEventStore inner) : IEventStore
    {
        public ValueTask InitializeAsync(CancellationToken cancellationToken = default) => inner.InitializeAsync(cancellationToken);

        public ValueTask<AppendResult> AppendAsync(HeraldEvent evt, IReadOnlyList<string> subscriptionIds, string? idempotencyKey, CancellationToken cancellationToken = default) =>
            throw new StoreUnavailableException("The cluster did not confirm the commit in time.", null, outcomeUnknown: true);

        public ValueTask<IDeliveryQueue> OpenQueueAsync(string subscriptionId, CancellationToken cancellationToken = default) => inner.OpenQueueAsync(subscriptionId, cancellationToken);

        public ValueTask SubscriptionChangedAsync(SubscriptionSpec subscription, CancellationToken cancellationToken = default) => inner.SubscriptionChangedAsync(subscription, cancellationToken);

        public ValueTask<int> SubscriptionRemovedAsync(string subscriptionId, string reason, CancellationToken cancellationToken = default) => inner.SubscriptionRemovedAsync(subscriptionId, reason, cancellationToken);

        public ValueTask<IReadOnlyDictionary<string, DeliveryCounts>> CountAsync(IReadOnlyCollection<string> subscriptionIds, CancellationToken cancellationToken = default) => inner.CountAsync(subscriptionIds, cancellationToken);

        public ValueTask<IReadOnlyDictionary<string, DateTimeOffset>> OldestUndeliveredAsync(IReadOnlyCollection<string> subscriptionIds, CancellationToken cancellationToken = default) => inner.OldestUndeliveredAsync(subscriptionIds, cancellationToken);

        public ValueTask<bool> PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);
    }
}
