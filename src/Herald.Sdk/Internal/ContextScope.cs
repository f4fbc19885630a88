namespace Herald.Sdk.Internal;

/// <summary>An account, workspace and credential, to bind clients to.</summary>
internal sealed record ContextScope(string Account, string Workspace, string? Credential) : IHeraldContext;
