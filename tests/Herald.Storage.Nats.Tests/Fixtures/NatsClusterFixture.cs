namespace Herald.Storage.Nats.Tests.Fixtures;

/// <summary>Tests in this collection share one 3-node JetStream cluster (streams with three replicas).</summary>
[CollectionDefinition(Name)]
public sealed class NatsClusterCollection : ICollectionFixture<NatsClusterFixture>
{
    public const string Name = "nats-cluster";
}

/// <summary>
/// A 3-node <see cref="NatsCluster"/>, started once for the <c>nats-cluster</c> collection (and ready: the nodes agree on
/// a meta leader) and killed after it. A test that kills or restarts a node leaves all three running and agreeing again.
/// </summary>
public sealed class NatsClusterFixture : IAsyncLifetime
{
    public NatsCluster Cluster { get; } = new();

    /// <summary>"nats://a,nats://b,nats://c", as <c>NatsOpts.Url</c> takes them.</summary>
    public string ClientUrls => Cluster.ClientUrls;

    public IReadOnlyList<NatsServerProcess> Nodes => Cluster.Nodes;

    /// <summary>A stream or bucket name prefix ("T1_", "T2_", ...) no other test gets.</summary>
    public string NextPrefix() => NatsNames.NextPrefix();

    public Task InitializeAsync() => Cluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}
