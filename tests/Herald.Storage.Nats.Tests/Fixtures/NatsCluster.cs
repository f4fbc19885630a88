namespace Herald.Storage.Nats.Tests.Fixtures;

/// <summary>
/// Three <see cref="NatsServerProcess"/> nodes (n1, n2, n3) of one JetStream cluster on 127.0.0.1, so streams can have
/// three replicas. Every port is chosen up front, so each node's route list names all three, its own included.
/// </summary>
public sealed class NatsCluster : IAsyncDisposable
{
    public const int Size = 3;

    /// <summary>How long <see cref="WaitForMetaLeaderAsync"/> waits when no deadline is given.</summary>
    public static readonly TimeSpan MetaLeaderDeadline = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PollPeriod = TimeSpan.FromMilliseconds(100);
    private readonly NatsServerProcess[] _nodes;

    public NatsCluster(string name = "herald-test")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;

        // Per node: client, monitoring and cluster port.
        var ports = LoopbackPorts.Pick(Size * 3);
        var routes = Enumerable.Range(0, Size).Select(i => ports[(i * 3) + 2]).ToArray();
        _nodes = Enumerable.Range(0, Size)
            .Select(i => new NatsServerProcess(
                $"n{i + 1}",
                new NatsServerPorts(ports[i * 3], ports[(i * 3) + 1]),
                new NatsClusterOptions(name, routes[i], routes)))
            .ToArray();
        ClientUrlList = _nodes.Select(n => n.ClientUrl).ToArray();
    }

    public string Name { get; }

    public IReadOnlyList<NatsServerProcess> Nodes => _nodes;

    /// <summary>Every node's client URL.</summary>
    public IReadOnlyList<string> ClientUrlList { get; }

    /// <summary>Every node's client URL, comma-joined, as <c>NatsOpts.Url</c> takes them: "nats://a,nats://b,nats://c".</summary>
    public string ClientUrls => string.Join(',', ClientUrlList);

    /// <summary>
    /// Starts every node that does not run and waits until they agree on a meta leader (<see cref="WaitForMetaLeaderAsync"/>).
    /// If that fails, the nodes are killed and the exception says why.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await Task.WhenAll(_nodes.Where(n => !n.IsRunning).Select(n => n.StartAsync(cancellationToken)));
            await WaitForMetaLeaderAsync(cancellationToken: cancellationToken);
        }
        catch
        {
            await Task.WhenAll(_nodes.Select(n => n.KillAsync(CancellationToken.None)));
            throw;
        }
    }

    /// <summary>
    /// Polls <c>GET /jsz</c> on every running node until all report the same meta leader, that leader is a running
    /// node, and the leader sees every other running node as current; returns the leader's name. A node that was just
    /// killed is still named leader by the others for a few seconds, which is why the leader must be running. Usable
    /// after a node is killed (a majority must still run) or restarted (it must have rejoined).
    /// </summary>
    public async Task<string> WaitForMetaLeaderAsync(TimeSpan? deadline = null, CancellationToken cancellationToken = default)
    {
        var wait = deadline ?? MetaLeaderDeadline;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(wait);
        using var timer = new PeriodicTimer(PollPeriod);
        var last = "not asked yet";
        try
        {
            while (true)
            {
                var running = _nodes.Where(n => n.IsRunning).ToArray();
                if (running.Length <= Size / 2)
                {
                    throw new InvalidOperationException(
                        $"Only {running.Length} of {Size} nodes run ({string.Join(", ", running.Select(n => n.ServerName))}); a meta leader needs a majority.");
                }

                var states = await Task.WhenAll(running.Select(n => TryGetMetaClusterAsync(n, timeout.Token)));
                if (AgreedLeader(running, states, out last) is { } leader)
                {
                    return leader;
                }

                await timer.WaitForNextTickAsync(timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var logs = string.Concat(_nodes.Select(n =>
                $"{Environment.NewLine}--- {n.ServerName} ({n.LogPath}):{Environment.NewLine}{string.Join(Environment.NewLine, n.LogTail(15))}"));
            throw new TimeoutException(
                $"The running nodes of cluster {Name} did not agree on a running meta leader within {wait.TotalSeconds} s; last: {last}.{logs}");
        }
    }

    /// <summary>Kills every node and deletes their folders.</summary>
    public async ValueTask DisposeAsync() =>
        await Task.WhenAll(_nodes.Select(n => n.DisposeAsync().AsTask()));

    private static async Task<(MetaClusterState? State, string? Error)> TryGetMetaClusterAsync(NatsServerProcess node, CancellationToken cancellationToken)
    {
        try
        {
            return (await node.GetMetaClusterAsync(cancellationToken), null);
        }
        catch (HttpRequestException e)
        {
            return (null, e.Message);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, "the request timed out");
        }
    }

    private static string? AgreedLeader(NatsServerProcess[] running, (MetaClusterState? State, string? Error)[] answers, out string summary)
    {
        summary = string.Join("; ", running.Zip(answers, (node, answer) => $"{node.ServerName}: " + answer switch
        {
            (null, var error) => $"no meta_cluster ({error ?? "none reported"})",
            ({ } state, _) => $"leader {state.Leader ?? "none"}, current peers [{string.Join(", ", state.Replicas.Where(r => r.Current).Select(r => r.Name))}]",
        }));

        var leaders = answers.Select(a => a.State?.Leader).Distinct().ToArray();
        if (leaders is not [{ } leader])
        {
            return null;
        }

        var leaderIndex = Array.FindIndex(running, n => n.ServerName == leader);
        if (leaderIndex < 0)
        {
            return null; // the leader they name is not running (it was just killed)
        }

        var seenByLeader = answers[leaderIndex].State!.Replicas;
        var allCurrent = running
            .Where(n => n.ServerName != leader)
            .All(n => seenByLeader.Any(r => r.Name == n.ServerName && r.Current));
        return allCurrent ? leader : null;
    }
}
