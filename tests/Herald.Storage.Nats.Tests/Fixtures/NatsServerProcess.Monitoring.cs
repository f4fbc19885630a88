using System.Text.Json;

namespace Herald.Storage.Nats.Tests.Fixtures;

public sealed partial class NatsServerProcess
{
    /// <summary>
    /// Reads <c>meta_cluster</c> from the node's <c>GET /jsz</c>; null when the server reports none (a single server).
    /// Throws <see cref="HttpRequestException"/> when the node does not answer.
    /// </summary>
    public async Task<MetaClusterState?> GetMetaClusterAsync(CancellationToken cancellationToken = default)
    {
        using var jsz = await GetJszAsync("jsz", cancellationToken);
        if (!jsz.RootElement.TryGetProperty("meta_cluster", out var meta) || meta.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var leader = meta.TryGetProperty("leader", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
        var size = meta.TryGetProperty("cluster_size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt32() : 0;
        var replicas = new List<MetaClusterPeer>();
        if (meta.TryGetProperty("replicas", out var peers) && peers.ValueKind == JsonValueKind.Array)
        {
            foreach (var peer in peers.EnumerateArray())
            {
                var name = peer.TryGetProperty("name", out var n) ? n.GetString() : null;
                var current = peer.TryGetProperty("current", out var c) && c.ValueKind == JsonValueKind.True;
                if (!string.IsNullOrEmpty(name))
                {
                    replicas.Add(new MetaClusterPeer(name, current));
                }
            }
        }

        return new MetaClusterState(string.IsNullOrEmpty(leader) ? null : leader, size, replicas);
    }

    /// <summary>
    /// How many messages this node's own replica of <paramref name="stream"/> holds, from <c>GET /jsz</c>: null when the
    /// node keeps no replica of it. Replicas of one stream can differ where the server has a bug; the stream's info
    /// shows only the leader's.
    /// </summary>
    public async Task<ulong?> GetReplicaMessagesAsync(string stream, CancellationToken cancellationToken = default)
    {
        using var jsz = await GetJszAsync("jsz?accounts=true&streams=true", cancellationToken);
        if (!jsz.RootElement.TryGetProperty("account_details", out var accounts) || accounts.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        foreach (var account in accounts.EnumerateArray())
        {
            if (!account.TryGetProperty("stream_detail", out var streams) || streams.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var detail in streams.EnumerateArray())
            {
                if (detail.GetProperty("name").GetString() == stream)
                {
                    return detail.GetProperty("state").GetProperty("messages").GetUInt64();
                }
            }
        }

        return null;
    }

    /// <summary>The node's answer to <c>GET /{path}</c> on its monitoring endpoint (<c>jsz</c> and its queries).</summary>
    private async Task<JsonDocument> GetJszAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await MonitoringHttp.Client.GetAsync(new Uri(MonitorUrl, path), cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        return await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
    }
}

/// <summary>The one HTTP client for monitoring endpoints: no proxy (they are on loopback) and a short timeout.</summary>
internal static class MonitoringHttp
{
    public static HttpClient Client { get; } = new(new SocketsHttpHandler { UseProxy = false })
    {
        Timeout = TimeSpan.FromSeconds(5),
    };
}
