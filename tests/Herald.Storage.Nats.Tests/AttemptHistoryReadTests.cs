using Herald.Storage.Nats.Internal;
using Herald.Storage.Nats.Tests.Fixtures;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Herald.Storage.Nats.Tests;

/// <summary>
/// A delivery's attempt history is read from its bucket's stream leader. A KV get may be answered by any replica, and
/// nats-server 2.9 lets a follower go on answering once it has fallen behind: the broker connected to that follower
/// read the history without the attempt just recorded, wrote it back one attempt short on the next failure, and the
/// dead letter lost that attempt.
/// </summary>
[Collection(NatsClusterCollection.Name)]
public sealed class AttemptHistoryReadTests(NatsClusterFixture nats) : IAsyncLifetime
{
    private const int Rounds = 40;

    private readonly NatsStoreFactory _factory = new(nats.ClientUrls, 3);
    private readonly List<NatsEventStore> _stores = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task AHistoryRecordedWhileAFollowerWasPaused_IsReadWhole_ThroughThatFollower()
    {
        var bucket = "KV_" + new StoreNames(_factory.StoreOptions.Prefix).AttemptsBucket;
        await OpenAsync(nats.ClientUrls);
        var follower = await nats.FollowerOfAsync(bucket);

        // One store writes through the nodes that keep running; the other is connected only to the follower.
        var writer = await OpenAsync(string.Join(',', nats.Nodes.Where(node => node != follower).Select(node => node.ClientUrl)));
        var reader = await OpenAsync(follower.ClientUrl);
        for (var round = 1UL; round <= Rounds; round++)
        {
            follower.Pause();
            try
            {
                await writer.RecordAttemptsAsync(round, [new AttemptRecord(1, DateTimeOffset.UtcNow, TimeSpan.FromMilliseconds(5), 503, "HTTP 503")], CancellationToken.None);
            }
            finally
            {
                follower.Resume();
            }

            var history = await reader.AttemptHistoryAsync(round, CancellationToken.None);
            Assert.True(history.Count == 1, $"Round {round}: the history read through the follower held {history.Count} attempts, not the 1 recorded.");
        }
    }

    private async Task<NatsEventStore> OpenAsync(string url)
    {
        var options = _factory.StoreOptions;
        options.Url = url;
        var store = new NatsEventStore(options);
        _stores.Add(store);
        await store.InitializeAsync();
        return store;
    }
}
