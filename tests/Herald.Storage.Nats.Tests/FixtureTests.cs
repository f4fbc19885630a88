using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Herald.Storage.Nats.Tests.Fixtures;
using NATS.Client.Core;

namespace Herald.Storage.Nats.Tests;

/// <summary>The single-server fixture and <see cref="NatsServerProcess"/> itself, against the real nats-server.</summary>
[Collection(NatsServerCollection.Name)]
public sealed class NatsServerFixtureTests(NatsServerFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact(Timeout = 60_000)]
    public async Task A_client_connects_to_the_single_server_and_its_ping_is_answered()
    {
        using var deadline = new CancellationTokenSource(Deadline);
        await using var nats = new NatsConnection(new NatsOpts { Url = fixture.ClientUrl });
        await nats.ConnectAsync();

        await nats.PingAsync(deadline.Token);

        Assert.Equal(NatsConnectionState.Open, nats.ConnectionState);
        var info = Assert.IsAssignableFrom<INatsServerInfo>(nats.ServerInfo);
        Assert.Equal("herald-r1", info.Name);
        Assert.True(info.JetStreamAvailable);
        Assert.StartsWith(NatsServerProcess.Version.ToString(3), info.Version, StringComparison.Ordinal);
    }

    [Fact]
    public void NextPrefix_gives_every_concurrent_caller_a_prefix_of_its_own()
    {
        var prefixes = new ConcurrentBag<string>();

        Parallel.For(0, 1000, _ => prefixes.Add(fixture.NextPrefix()));

        Assert.Equal(1000, prefixes.Distinct().Count());
        Assert.All(prefixes, p => Assert.Matches("^T[0-9]+_$", p));
    }

    [Fact(Timeout = 60_000)]
    public async Task StartAsync_fails_with_the_servers_log_when_its_client_port_is_taken()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var taken = ((IPEndPoint)squatter.LocalEndpoint).Port;
        await using var server = new NatsServerProcess("squatted", new NatsServerPorts(taken, LoopbackPorts.Pick(1)[0]));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => server.StartAsync());

        Assert.Contains("exited with code", error.Message, StringComparison.Ordinal);
        Assert.Contains("address already in use", error.Message, StringComparison.Ordinal);
        Assert.False(server.IsRunning);
    }

    [Fact(Timeout = 120_000)]
    public async Task A_stopped_server_restarts_on_the_same_port_with_its_JetStream_data()
    {
        using var deadline = new CancellationTokenSource(Deadline * 2);
        var stream = fixture.NextPrefix() + "RESTART";
        await using var server = new NatsServerProcess("restarted");
        await server.StartAsync(deadline.Token);
        var url = server.ClientUrl;
        await using (var nats = new NatsConnection(new NatsOpts { Url = url }))
        {
            var created = await RequestJsonAsync(nats, $"$JS.API.STREAM.CREATE.{stream}",
                $$"""{"name":"{{stream}}","subjects":["{{stream}}.>"],"storage":"file","num_replicas":1}""", deadline.Token);
            Assert.False(created.RootElement.TryGetProperty("error", out var problem), problem.ToString());
            var ack = await RequestJsonAsync(nats, $"{stream}.one", "hello", deadline.Token);
            Assert.Equal(1, ack.RootElement.GetProperty("seq").GetInt64());
        }

        await server.StopAsync(cancellationToken: deadline.Token);
        Assert.False(server.IsRunning);
        await server.RestartAsync(deadline.Token);

        Assert.True(server.IsRunning);
        Assert.Equal(url, server.ClientUrl);
        await using (var nats = new NatsConnection(new NatsOpts { Url = url }))
        {
            var info = await RequestJsonAsync(nats, $"$JS.API.STREAM.INFO.{stream}", "", deadline.Token);
            Assert.False(info.RootElement.TryGetProperty("error", out var problem), problem.ToString());
            Assert.Equal(1, info.RootElement.GetProperty("state").GetProperty("messages").GetInt64());
        }
    }

    private static async Task<JsonDocument> RequestJsonAsync(NatsConnection nats, string subject, string body, CancellationToken cancellationToken)
    {
        var reply = await nats.RequestAsync<string, string>(subject, body, cancellationToken: cancellationToken);
        return JsonDocument.Parse(reply.Data ?? throw new InvalidOperationException($"{subject} got an empty reply."));
    }
}

/// <summary>The 3-node cluster fixture: leader election, node loss and rejoin, against real nats-server processes.</summary>
[Collection(NatsClusterCollection.Name)]
public sealed class NatsClusterFixtureTests(NatsClusterFixture fixture)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact(Timeout = 120_000)]
    public async Task The_three_nodes_report_one_running_meta_leader_and_a_client_connects_through_the_url_list()
    {
        using var deadline = new CancellationTokenSource(Deadline);
        var cluster = fixture.Cluster;

        var leader = await cluster.WaitForMetaLeaderAsync(cancellationToken: deadline.Token);

        Assert.Contains(leader, cluster.Nodes.Select(n => n.ServerName));
        foreach (var node in cluster.Nodes)
        {
            var meta = Assert.IsType<MetaClusterState>(await node.GetMetaClusterAsync(deadline.Token));
            Assert.Equal(leader, meta.Leader);
            Assert.Equal(NatsCluster.Size, meta.ClusterSize);
        }

        Assert.Equal(string.Join(",", cluster.Nodes.Select(n => n.ClientUrl)), fixture.ClientUrls);
        await using var nats = new NatsConnection(new NatsOpts { Url = fixture.ClientUrls });
        await nats.ConnectAsync();
        await nats.PingAsync(deadline.Token);
        var info = Assert.IsAssignableFrom<INatsServerInfo>(nats.ServerInfo);
        Assert.True(info.JetStreamAvailable);
        Assert.Equal(cluster.Name, info.Cluster);
    }

    [Fact(Timeout = 180_000)]
    public async Task When_the_leader_is_killed_the_other_two_agree_on_a_new_one_and_the_restarted_node_rejoins()
    {
        using var deadline = new CancellationTokenSource(Deadline * 1.5);
        var cluster = fixture.Cluster;
        var leader = await cluster.WaitForMetaLeaderAsync(cancellationToken: deadline.Token);
        var victim = cluster.Nodes.Single(n => n.ServerName == leader);
        var survivors = cluster.Nodes.Where(n => n != victim).ToArray();
        try
        {
            await victim.KillAsync(deadline.Token);
            Assert.False(victim.IsRunning);

            var newLeader = await cluster.WaitForMetaLeaderAsync(cancellationToken: deadline.Token);
            Assert.NotEqual(victim.ServerName, newLeader);
            foreach (var node in survivors)
            {
                Assert.Equal(newLeader, (await node.GetMetaClusterAsync(deadline.Token))?.Leader);
            }

            await victim.RestartAsync(deadline.Token);
            var leaderAfterRejoin = await cluster.WaitForMetaLeaderAsync(cancellationToken: deadline.Token);

            foreach (var node in cluster.Nodes)
            {
                Assert.Equal(leaderAfterRejoin, (await node.GetMetaClusterAsync(deadline.Token))?.Leader);
            }

            var leaderNode = cluster.Nodes.Single(n => n.ServerName == leaderAfterRejoin);
            var seenByLeader = Assert.IsType<MetaClusterState>(await leaderNode.GetMetaClusterAsync(deadline.Token));
            Assert.All(cluster.Nodes.Where(n => n != leaderNode), n => Assert.Contains(seenByLeader.Replicas, r => r.Name == n.ServerName && r.Current));
        }
        finally
        {
            // Leave the shared cluster whole for the collection's other tests.
            if (!victim.IsRunning)
            {
                await victim.RestartAsync(CancellationToken.None);
                await cluster.WaitForMetaLeaderAsync();
            }
        }
    }
}
