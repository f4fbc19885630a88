using System.Diagnostics;
using System.Threading.RateLimiting;
using Herald.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.Sdk.Internal;

/// <summary>
/// Middleware that serves requests the broker's router forwards: it dispatches on <c>x-colossus-route-id</c>, as
/// <c>@vtex/api</c> does, and passes any other request on.
/// </summary>
internal sealed class RouteDispatcher(RequestDelegate next, ServiceDefinition definition, HeraldClients clients, ILoggerFactory loggerFactory)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("Herald.Sdk.Routes");

    public async Task InvokeAsync(HttpContext http)
    {
        var headers = http.Request.Headers;
        if (!headers.TryGetValue(HeraldHeaders.RouteId, out var routeIdValues))
        {
            await next(http).ConfigureAwait(false);
            return;
        }

        var routeId = routeIdValues.ToString();
        if (!definition.Routes.TryGetValue(routeId, out var entry))
        {
            Log.UnknownRoute(_logger, routeId);
            var known = definition.Routes.Count == 0 ? "no routes" : string.Join(", ", definition.Routes.Keys.Order(StringComparer.Ordinal));
            await Problems.WriteAsync(
                http,
                StatusCodes.Status404NotFound,
                "Unknown route",
                $"Route not found for {routeId}: this app serves {known}. Declare the route in {definition.ServiceFile} and service.Routes, then relink the app.").ConfigureAwait(false);
            return;
        }

        var path = http.Request.Path.Value ?? "/";
        var parameters = entry.Declaration.Path.Match(path);
        if (parameters is null)
        {
            await Problems.WriteAsync(
                http,
                StatusCodes.Status404NotFound,
                "Path does not match the route",
                $"The path '{path}' does not match the route '{routeId}' ({entry.Declaration.Path}) declared in {definition.ServiceFile}.").ConfigureAwait(false);
            return;
        }

        var account = Header(http, HeraldHeaders.Account) ?? definition.Settings.Account;
        var workspace = Header(http, HeraldHeaders.Workspace) ?? definition.Settings.Workspace;
        if (account is null || workspace is null)
        {
            await Problems.WriteAsync(
                http,
                StatusCodes.Status400BadRequest,
                "No account or workspace",
                $"The request to route '{routeId}' has no {HeraldHeaders.Account} and {HeraldHeaders.Workspace} headers. Call the route through the broker: /{{account}}/{{workspace}}{entry.Declaration.Path}.").ConfigureAwait(false);
            return;
        }

        using var lease = entry.Limiter is null ? null : await entry.Limiter.AcquireAsync(1, http.RequestAborted).ConfigureAwait(false);
        if (lease is { IsAcquired: false })
        {
            TimeSpan? retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : null;
            Log.RouteRateLimited(_logger, routeId);
            await Problems.WriteAsync(
                http,
                StatusCodes.Status429TooManyRequests,
                "Route rate limited",
                $"The route '{routeId}' is at its rateLimitPerReplica in {definition.ServiceFile}; retry later.",
                retryAfter).ConfigureAwait(false);
            return;
        }

        var credential = Header(http, HeraldHeaders.Credential);
        var context = new HeraldRouteContext
        {
            HttpContext = http,
            RouteId = routeId,
            Account = account,
            Workspace = workspace,
            Credential = credential,
            Params = parameters,
            Clients = clients.For(new ContextScope(account, workspace, credential)),
            Logger = loggerFactory.CreateLogger("Herald.Routes." + routeId),
        };

        using var activity = Telemetry.StartHandlerActivity($"{http.Request.Method} {entry.Declaration.Path}", ActivityKind.Server, headers[HeraldHeaders.TraceParent], headers["tracestate"]);
        activity?.SetTag("http.route", entry.Declaration.Path.Text);
        activity?.SetTag("herald.route_id", routeId);
        try
        {
            await entry.Handler(context).ConfigureAwait(false);
        }
        catch (HeraldHttpException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            Log.RouteAnswered(_logger, routeId, e.StatusCode, e.Message);
            await Problems.WriteAsync(http, e.StatusCode, $"Route '{routeId}' failed", e.Message, (e as TooManyRequestsException)?.RetryAfter).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The caller went away; there is no one to answer.
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            Log.RouteFailed(_logger, routeId, e);
            await Problems.WriteAsync(
                http,
                StatusCodes.Status500InternalServerError,
                $"Route '{routeId}' failed",
                $"The route '{routeId}' threw {e.GetType().Name}: {e.Message}. See the app's log for the stack trace.").ConfigureAwait(false);
        }
    }

    private static string? Header(HttpContext http, string name)
    {
        var value = http.Request.Headers[name].ToString();
        return value.Length == 0 ? null : value;
    }
}
