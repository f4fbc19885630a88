namespace Herald.Broker.Admin;

// The admin API's bodies that the dashboard (/_herald/ui) reads besides the ones in AdminModels.cs. JSON names are camelCase.

/// <summary>An (account, workspace) pair with linked apps.</summary>
/// <param name="Account">The account.</param>
/// <param name="Workspace">The workspace.</param>
/// <param name="Apps">How many apps are linked there.</param>
/// <param name="Subscriptions">How many subscriptions those apps have.</param>
public sealed record WorkspaceInfo(string Account, string Workspace, int Apps, int Subscriptions);

/// <summary>Answer to <c>GET /_herald/v1/workspaces</c>: every pair with a linked app, by account then workspace.</summary>
public sealed record WorkspacesResponse(IReadOnlyList<WorkspaceInfo> Workspaces);

/// <summary>How far behind one subscription is.</summary>
/// <param name="Id">The subscription id (<c>account/workspace/vendor.name/handlerId</c>).</param>
/// <param name="OldestUndelivered">When its oldest event not yet delivered nor dead was accepted; <c>null</c> when it has none.</param>
/// <param name="LagSeconds">How long ago that was, in seconds; 0 when it is caught up.</param>
public sealed record SubscriptionLag(string Id, DateTimeOffset? OldestUndelivered, double LagSeconds);

/// <summary>Answer to <c>GET /_herald/v1/{account}/{workspace}/lag</c>: the lag of every subscription there, read from the store now.</summary>
/// <param name="At">When the store was read.</param>
/// <param name="Subscriptions">One entry per subscription of the workspace's linked apps.</param>
public sealed record LagResponse(DateTimeOffset At, IReadOnlyList<SubscriptionLag> Subscriptions);
