using Herald.Storage.Nats.Tests.Fixtures;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Herald.Storage.Nats.Tests;

/// <summary>
/// Finds a node of the cluster that follows a stream rather than leads it. Kept out of <c>Fixtures</c>, which the
/// end-to-end tests compile without the NATS client.
/// </summary>
internal static class StreamFollowers
{
    public static async Task<NatsServerProcess> FollowerOfAsync(this NatsClusterFixture nats, string stream)
    {
        await using var connection = new NatsConnection(new NatsOpts { Url = nats.ClientUrls });
        var info = (await new NatsJSContext(connection).GetStreamAsync(stream)).Info;
        var leader = info.Cluster?.Leader ?? throw new InvalidOperationException($"The stream {stream} has no leader.");
        return nats.Nodes.First(node => node.ServerName != leader);
    }
}
