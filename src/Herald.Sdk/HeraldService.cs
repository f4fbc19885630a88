using Herald.Delivery;

namespace Herald.Sdk;

/// <summary>
/// The declaration of an app's service, as VTEX IO's <c>new Service({clients, events, routes})</c>: the options of its
/// IO clients, its event handlers and its route handlers. Every id here must be declared in <c>dotnet/service.json</c>,
/// and every event there must have a handler here.
/// </summary>
public sealed class HeraldService
{
    /// <summary>The options of the IO clients (<c>clients.options</c>).</summary>
    public HeraldClientsOptions Clients { get; } = new();

    /// <summary>Event handlers by handler id (the keys of <c>events</c> in <c>service.json</c>).</summary>
    public IDictionary<string, Func<EventContext, Task>> Events { get; } = new Dictionary<string, Func<EventContext, Task>>(StringComparer.Ordinal);

    /// <summary>Route handlers by route id (the keys of <c>routes</c> in <c>service.json</c>).</summary>
    public IDictionary<string, Func<HeraldRouteContext, Task>> Routes { get; } = new Dictionary<string, Func<HeraldRouteContext, Task>>(StringComparer.Ordinal);
}

/// <summary>
/// VTEX IO's <c>clients.options</c>: <see cref="Default"/> applies to every client, and <see cref="Options"/> holds
/// per-client options (by client name, e.g. <c>events</c>) laid over it field by field.
/// </summary>
public sealed class HeraldClientsOptions
{
    /// <summary>The name of the Events client.</summary>
    public const string EventsClientName = "events";

    /// <summary>The name of the client used for names that have no options of their own.</summary>
    public const string DefaultClientName = "default";

    /// <summary>Options for every client (<c>clients.options.default</c>). <value>none: library defaults apply</value></summary>
    public ClientOptions? Default { get; set; }

    /// <summary>Options per client name (<c>clients.options.&lt;name&gt;</c>), laid over <see cref="Default"/>.</summary>
    public IDictionary<string, ClientOptions> Options { get; } = new Dictionary<string, ClientOptions>(StringComparer.Ordinal);

    /// <summary>The options the client <paramref name="name"/> runs with: its own over <see cref="Default"/> over the library defaults.</summary>
    public ClientOptions Resolve(string name) =>
        ClientOptions.Resolve(Options.TryGetValue(name, out var named) ? named : null, Default);
}
