using Herald.Sdk;

namespace EventsExample;

/// <summary>The request context cached by the healthcheck route: where to fire events, and with which token.</summary>
public sealed record CachedContext(string Account, string Workspace, string? Credential) : IHeraldContext;

/// <summary>Holds the last context the healthcheck saw, in memory (as the VTEX IO example does).</summary>
public sealed class ContextCache
{
    private CachedContext? _current;

    /// <summary>The cached context, or null before the healthcheck has been called.</summary>
    public CachedContext? Current => Volatile.Read(ref _current);

    /// <summary>Caches a context.</summary>
    public void Set(CachedContext context) => Volatile.Write(ref _current, context);
}
