namespace Herald.Storage.Nats.Tests.Fixtures;

/// <summary>
/// The <c>meta_cluster</c> part of a node's <c>GET /jsz</c>: the JetStream meta leader it knows of (null while there is
/// none), the cluster size, and the other peers as this node sees them.
/// </summary>
public sealed record MetaClusterState(string? Leader, int ClusterSize, IReadOnlyList<MetaClusterPeer> Replicas);

/// <summary>One peer in <c>meta_cluster.replicas</c>: its server name and whether it is current with the leader.</summary>
public sealed record MetaClusterPeer(string Name, bool Current);
