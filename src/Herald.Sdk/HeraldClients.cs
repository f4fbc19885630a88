using Herald.Sdk.Internal;

namespace Herald.Sdk;

/// <summary>
/// The app's IO clients (VTEX IO's <c>ctx.clients</c>): the Events client and named HTTP clients that run with the
/// retries, growing timeouts, backoff and concurrency of <see cref="HeraldService.Clients"/>.
/// </summary>
public sealed class HeraldClients
{
    private readonly ClientRegistry _registry;

    internal HeraldClients(ClientRegistry registry, EventsClient events)
    {
        _registry = registry;
        Events = events;
    }

    /// <summary>The Events client, bound to the account and workspace of the context these clients came from.</summary>
    public EventsClient Events { get; }

    /// <summary>
    /// An <see cref="HttpClient"/> that runs with the options of the client <paramref name="name"/>
    /// (<c>clients.options.&lt;name&gt;</c> over <c>clients.options.default</c>); a name without options of its own
    /// runs with the default options. Idempotent requests (GET, HEAD, PUT, DELETE, OPTIONS, or any carrying an
    /// <c>Idempotency-Key</c>) are retried on timeouts, network errors, 408, 429 and 5xx.
    /// </summary>
    public HttpClient CreateHttpClient(string name = HeraldClientsOptions.DefaultClientName) => _registry.CreateClient(name);

    /// <summary>These clients, bound to <paramref name="context"/>'s account, workspace and credential.</summary>
    public HeraldClients For(IHeraldContext context) => new(_registry, Events.For(context));
}
