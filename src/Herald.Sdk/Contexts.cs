using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.Sdk;

/// <summary>Where a request runs: the account and workspace, and the app token that came with it.</summary>
public interface IHeraldContext
{
    /// <summary>The account, e.g. <c>acme</c>.</summary>
    string Account { get; }

    /// <summary>The workspace, e.g. <c>master</c>.</summary>
    string Workspace { get; }

    /// <summary>The app's token that came with the request (<c>x-vtex-credential</c>), if any.</summary>
    string? Credential { get; }
}

/// <summary>What an event handler receives: the event, where it happened, and the app's clients and services.</summary>
public sealed class EventContext : IHeraldContext
{
    /// <summary>The event body, as published (a JSON object or array).</summary>
    public required JsonElement Body { get; init; }

    /// <summary>The event key, e.g. <c>send-event</c>.</summary>
    public required string Key { get; init; }

    /// <summary>The sender id of the app that fired the event, <c>vendor.name</c>.</summary>
    public required string Sender { get; init; }

    /// <summary>The event subject (<c>resource</c> at publish); empty when none.</summary>
    public required string Subject { get; init; }

    /// <inheritdoc/>
    public required string Account { get; init; }

    /// <inheritdoc/>
    public required string Workspace { get; init; }

    /// <inheritdoc/>
    public string? Credential { get; init; }

    /// <summary>The event id, the same on every retry: use it to make the handler idempotent.</summary>
    public required string EventId { get; init; }

    /// <summary>The 1-based attempt number of this delivery.</summary>
    public required int Attempt { get; init; }

    /// <summary>The handler id (the key of <c>events</c> in <c>service.json</c>).</summary>
    public required string HandlerId { get; init; }

    /// <summary>When the event was published. <value>null when the broker did not say</value></summary>
    public DateTimeOffset? Time { get; init; }

    /// <summary>The app's IO clients, bound to this account and workspace.</summary>
    public required HeraldClients Clients { get; init; }

    /// <summary>The request's services.</summary>
    public required IServiceProvider Services { get; init; }

    /// <summary>A logger for this handler.</summary>
    public required ILogger Logger { get; init; }

    /// <summary>Cancelled when the broker gives up on the attempt (its timeout) or the app stops.</summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>What a route handler receives: the HTTP exchange, where it runs, the path parameters and the app's clients.</summary>
public sealed class HeraldRouteContext : IHeraldContext
{
    /// <summary>The HTTP exchange: read the request and write the response here.</summary>
    public required HttpContext HttpContext { get; init; }

    /// <summary>The route id (the key of <c>routes</c> in <c>service.json</c>).</summary>
    public required string RouteId { get; init; }

    /// <inheritdoc/>
    public required string Account { get; init; }

    /// <inheritdoc/>
    public required string Workspace { get; init; }

    /// <inheritdoc/>
    public string? Credential { get; init; }

    /// <summary>The values of the route's <c>:param</c> and <c>*param</c> segments.</summary>
    public required IReadOnlyDictionary<string, string> Params { get; init; }

    /// <summary>The app's IO clients, bound to this account and workspace.</summary>
    public required HeraldClients Clients { get; init; }

    /// <summary>A logger for this route.</summary>
    public required ILogger Logger { get; init; }

    /// <summary>The request's services.</summary>
    public IServiceProvider Services => HttpContext.RequestServices;

    /// <summary>Cancelled when the caller goes away.</summary>
    public CancellationToken CancellationToken => HttpContext.RequestAborted;
}
