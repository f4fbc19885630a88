namespace Herald.Storage.Nats.Tests.Fixtures;

/// <summary>Tests in this collection share one single JetStream server (streams with one replica).</summary>
[CollectionDefinition(Name)]
public sealed class NatsServerCollection : ICollectionFixture<NatsServerFixture>
{
    public const string Name = "nats-server";
}

/// <summary>
/// One single <c>nats-server</c> with JetStream, started once for the <c>nats-server</c> collection and killed after it.
/// Tests keep apart by naming their streams and buckets with <see cref="NextPrefix"/>.
/// </summary>
public sealed class NatsServerFixture : IAsyncLifetime
{
    public NatsServerProcess Server { get; } = new("herald-r1");

    public string ClientUrl => Server.ClientUrl;

    /// <summary>A stream or bucket name prefix ("T1_", "T2_", ...) no other test gets.</summary>
    public string NextPrefix() => NatsNames.NextPrefix();

    public Task InitializeAsync() => Server.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
