using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Herald.Delivery;
using Herald.Storage.Nats.Tests.Fixtures;

namespace Herald.Storage.Nats.Tests;

/// <summary>
/// A 3-node R3 cluster losing nodes under the store: with one node down nothing accepted is lost; with two down a
/// publish fails fast as "may still commit", and a resend with the same key never makes a second event. Each test
/// leaves all three nodes running and agreeing on a leader.
/// </summary>
[Collection(NatsClusterCollection.Name)]
public sealed class ClusterFaultTests(NatsClusterFixture nats) : IAsyncLifetime
{
    private const string SubscriptionId = "acme/dev/vtex.listener/h1";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly NatsStoreFactory _factory = new(nats.ClientUrls, 3);
    private NatsEventStore? _store;

    private NatsEventStore Store => _store!;

    public async Task InitializeAsync()
    {
        // What a broker runs with: a publish the cluster does not confirm in 800 ms is answered 503.
        var options = _factory.StoreOptions;
        options.PublishTimeout = TimeSpan.FromMilliseconds(800);
        _store = new NatsEventStore(options);
        await Store.InitializeAsync();
        await Store.SubscriptionChangedAsync(new SubscriptionSpec(SubscriptionId, "acme", "dev", "vtex.listener", "h1", null, ["send-event"], new DeliveryPolicy()));
    }

    public async Task DisposeAsync()
    {
        foreach (var node in nats.Nodes.Where(n => !n.IsRunning))
        {
            await node.RestartAsync();
        }

        await nats.Cluster.WaitForMetaLeaderAsync();
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        // The streams' leaders may still be moving after a restart: deleting them is retried until it goes through.
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await _factory.DisposeAsync();
                break;
            }
            catch (NATS.Client.Core.NatsException) when (elapsed.Elapsed < Patience)
            {
            }
        }
    }

    [Fact]
    public async Task KillingOneNodeWhilePublishing_LosesNoAcceptedEvent()
    {
        const int Events = 2000;
        var accepted = new ConcurrentDictionary<Guid, bool>();
        var unknown = new ConcurrentDictionary<Guid, bool>();
        var published = 0;
        var victim = nats.Nodes[1];
        var killed = Task.CompletedTask;

        await Parallel.ForAsync(0, Events, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
        {
            if (Interlocked.Increment(ref published) == Events / 4)
            {
                killed = victim.KillAsync(ct);
            }

            var evt = Event(i);
            try
            {
                await Store.AppendAsync(evt, [SubscriptionId], "key-" + i, ct);
                accepted[evt.Id] = true;
            }
            catch (StoreUnavailableException)
            {
                // Not accepted (the client would get 503); it may still have committed.
                unknown[evt.Id] = true;
            }
        });
        await killed;
        await victim.RestartAsync();
        await nats.Cluster.WaitForMetaLeaderAsync();

        var delivered = await DrainAsync(accepted.Keys.ToHashSet());

        var missing = accepted.Keys.Where(id => !delivered.ContainsKey(id)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {accepted.Count} accepted events were never delivered ({unknown.Count} publishes failed, {delivered.Values.Count(n => n > 1)} delivered twice).");
        Assert.All(delivered.Keys, id => Assert.True(accepted.ContainsKey(id) || unknown.ContainsKey(id), $"Event {id} was delivered but never published."));
    }

    [Fact]
    public async Task PublishWithTwoOfThreeNodesDown_FailsAsMayStillCommit_AndAResendWithTheSameKeyMakesOneEvent()
    {
        var first = Event(0);
        await Store.AppendAsync(first, [SubscriptionId], "first");
        await nats.Nodes[1].KillAsync();
        await nats.Nodes[2].KillAsync();

        var lost = Event(1);
        var failure = await Assert.ThrowsAsync<StoreUnavailableException>(async () => await Store.AppendAsync(lost, [SubscriptionId], "second"));
        await nats.Nodes[1].RestartAsync();
        await nats.Nodes[2].RestartAsync();
        await nats.Cluster.WaitForMetaLeaderAsync();
        var resent = Event(2);
        var result = await ResendAsync(resent, "second");

        Assert.True(failure.OutcomeUnknown, "A publish the cluster did not confirm must say that it may still commit.");
        Assert.Equal(1, result.Deliveries);
        Assert.Contains(result.EventId, new[] { lost.Id, resent.Id });
        var delivered = await DrainAsync(new HashSet<Guid> { first.Id, result.EventId });
        Assert.Equal(2, delivered.Count);
    }

    /// <summary>Resends until the cluster takes it again (it elects its stream leaders after the restart).</summary>
    private Task<AppendResult> ResendAsync(HeraldEvent evt, string key) =>
        WhileUnavailableAsync(async () => await Store.AppendAsync(evt, [SubscriptionId], key), Stopwatch.StartNew());

    /// <summary>
    /// Runs <paramref name="call"/> again while the store says it cannot yet, within <see cref="Patience"/> from
    /// <paramref name="elapsed"/>'s start: after nodes come back, the cluster elects its stream and consumer leaders in
    /// its own time, and a broker retries as this does.
    /// </summary>
    private static async Task<T> WhileUnavailableAsync<T>(Func<Task<T>> call, Stopwatch elapsed)
    {
        while (true)
        {
            try
            {
                return await call();
            }
            catch (StoreUnavailableException) when (elapsed.Elapsed < Patience)
            {
                // Not yet: a leader is being elected.
            }
        }
    }

    /// <summary>Leases and settles delivered until every one of <paramref name="expected"/> came; returns how often each event came.</summary>
    private async Task<Dictionary<Guid, int>> DrainAsync(IReadOnlySet<Guid> expected)
    {
        var seen = new Dictionary<Guid, int>();
        var elapsed = Stopwatch.StartNew();
        await using var queue = await WhileUnavailableAsync(async () => await Store.OpenQueueAsync(SubscriptionId), elapsed);
        while (!expected.All(seen.ContainsKey) && elapsed.Elapsed < Patience)
        {
            IReadOnlyList<DeliveryLease> leases;
            try
            {
                leases = await queue.LeaseAsync(256, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1));
            }
            catch (NATS.Client.Core.NatsException)
            {
                continue;
            }

            foreach (var lease in leases)
            {
                seen[lease.Event.Id] = seen.GetValueOrDefault(lease.Event.Id) + 1;
            }

            // As a broker does, a settlement the cluster did not confirm is written again (its leases are still held).
            while (leases.Count > 0)
            {
                try
                {
                    await queue.SettleAsync([.. leases.Select(l => Settlement.Delivered(l, null))]);
                    break;
                }
                catch (StoreUnavailableException) when (elapsed.Elapsed < Patience)
                {
                }
            }
        }

        // Whatever else is queued (an unknown publish that committed after all) is counted too.
        foreach (var lease in await queue.LeaseAsync(256, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1)))
        {
            seen[lease.Event.Id] = seen.GetValueOrDefault(lease.Event.Id) + 1;
        }

        return seen;
    }

    private static HeraldEvent Event(int n) =>
        new(Guid.CreateVersion7(), "acme", "dev", "vtex.events-example", "send-event", "", Encoding.UTF8.GetBytes($$"""{"n":{{n}}}"""), DateTimeOffset.UtcNow, null);
}
