using Herald.Storage.Compliance;
using Herald.Storage.Nats.Tests.Fixtures;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Herald.Storage.Nats.Tests;

/// <summary>
/// Opens a NATS store under a prefix of its own on a shared server or cluster; disposing it deletes every stream (and
/// so every bucket) under that prefix.
/// </summary>
internal sealed class NatsStoreFactory(string url, int replicas, StoreFactoryOptions? options = null) : IStoreFactory
{
    private readonly StoreFactoryOptions _options = options ?? StoreFactoryOptions.Default;
    private readonly string _prefix = NatsNames.NextPrefix().TrimEnd('_');

    // The suite is about what the store keeps, not how fast a loaded 2-core machine confirms a commit: a publish gets far
    // more time than a broker gives it, so 200 concurrent publishes to a 3-node cluster never time out.
    public NatsStoreOptions StoreOptions => new() { Url = url, Prefix = _prefix, Replicas = replicas, DedupeWindow = _options.DedupeWindow, PublishTimeout = TimeSpan.FromSeconds(30) };

    public async ValueTask<StoreHandle> OpenAsync(CancellationToken cancellationToken = default)
    {
        var store = new NatsEventStore(StoreOptions);
        await store.InitializeAsync(cancellationToken);
        return new StoreHandle(store, store, store, store, store.DisposeAsync);
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NatsConnection(new NatsOpts { Url = url });
        var js = new NatsJSContext(connection);
        var names = new List<string>();
        await foreach (var name in js.ListStreamNamesAsync())
        {
            if (name.StartsWith(_prefix + "-", StringComparison.Ordinal) || name.StartsWith("KV_" + _prefix + "-", StringComparison.Ordinal))
            {
                names.Add(name);
            }
        }

        await Task.WhenAll(names.Select(name => js.DeleteStreamAsync(name).AsTask()));
    }
}

[Collection(NatsServerCollection.Name)]
public sealed class NatsR1AppendTests(NatsServerFixture nats) : AppendTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrl, 1, options);
}

[Collection(NatsServerCollection.Name)]
public sealed class NatsR1DedupeTests(NatsServerFixture nats) : DedupeTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrl, 1, options);
}

[Collection(NatsServerCollection.Name)]
public sealed class NatsR1LeasingTests(NatsServerFixture nats) : LeasingTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrl, 1, options);
}

[Collection(NatsServerCollection.Name)]
public sealed class NatsR1SettlementTests(NatsServerFixture nats) : SettlementTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrl, 1, options);
}

[Collection(NatsServerCollection.Name)]
public sealed class NatsR1DeadLetterTests(NatsServerFixture nats) : DeadLetterTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrl, 1, options);
}

[Collection(NatsServerCollection.Name)]
public sealed class NatsR1RedriveTests(NatsServerFixture nats) : RedriveTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrl, 1, options);
}

[Collection(NatsServerCollection.Name)]
public sealed class NatsR1RecoveryTests(NatsServerFixture nats) : RecoveryTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrl, 1, options);
}

[Collection(NatsServerCollection.Name)]
public sealed class NatsR1ReplayTests(NatsServerFixture nats) : ReplayTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrl, 1, options);
}

[Collection(NatsServerCollection.Name)]
public sealed class NatsR1PruningTests(NatsServerFixture nats) : PruningTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrl, 1, options);
}

[Collection(NatsServerCollection.Name)]
public sealed class NatsR1SubscriptionLifecycleTests(NatsServerFixture nats) : SubscriptionLifecycleTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrl, 1, options);
}

[Collection(NatsServerCollection.Name)]
public sealed class NatsR1AppRegistryTests(NatsServerFixture nats) : AppRegistryTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrl, 1, options);
}

[Collection(NatsClusterCollection.Name)]
public sealed class NatsR3AppendTests(NatsClusterFixture nats) : AppendTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrls, 3, options);
}

[Collection(NatsClusterCollection.Name)]
public sealed class NatsR3DedupeTests(NatsClusterFixture nats) : DedupeTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrls, 3, options);
}

[Collection(NatsClusterCollection.Name)]
public sealed class NatsR3LeasingTests(NatsClusterFixture nats) : LeasingTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrls, 3, options);
}

[Collection(NatsClusterCollection.Name)]
public sealed class NatsR3SettlementTests(NatsClusterFixture nats) : SettlementTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrls, 3, options);
}

[Collection(NatsClusterCollection.Name)]
public sealed class NatsR3DeadLetterTests(NatsClusterFixture nats) : DeadLetterTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrls, 3, options);
}

[Collection(NatsClusterCollection.Name)]
public sealed class NatsR3RedriveTests(NatsClusterFixture nats) : RedriveTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrls, 3, options);
}

[Collection(NatsClusterCollection.Name)]
public sealed class NatsR3RecoveryTests(NatsClusterFixture nats) : RecoveryTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrls, 3, options);
}

[Collection(NatsClusterCollection.Name)]
public sealed class NatsR3ReplayTests(NatsClusterFixture nats) : ReplayTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrls, 3, options);
}

[Collection(NatsClusterCollection.Name)]
public sealed class NatsR3PruningTests(NatsClusterFixture nats) : PruningTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrls, 3, options);
}

[Collection(NatsClusterCollection.Name)]
public sealed class NatsR3SubscriptionLifecycleTests(NatsClusterFixture nats) : SubscriptionLifecycleTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrls, 3, options);
}

[Collection(NatsClusterCollection.Name)]
public sealed class NatsR3AppRegistryTests(NatsClusterFixture nats) : AppRegistryTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new NatsStoreFactory(nats.ClientUrls, 3, options);
}
