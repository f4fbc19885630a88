using System.Diagnostics;
using System.Net;
using Herald.Broker.Registry;
using Herald.Manifests;
using Herald.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Yarp.ReverseProxy.Forwarder;

namespace Herald.Broker.Http;

/// <summary>
/// The router: <c>/{account}/{workspace}{path}</c>, any method, forwarded by YARP's <see cref="IHttpForwarder"/> to the
/// app of that workspace that declares a matching route, as <c>{endpoint}{path}{query}</c> with
/// <c>x-colossus-route-id</c>, <c>x-vtex-account</c>, <c>x-vtex-workspace</c>, <c>x-vtex-credential</c> and
/// <c>x-request-id</c> set by the broker (a caller's own are dropped, with its <c>Authorization</c>). Non-public routes
/// need a token for the workspace.
/// </summary>
internal static class RouterEndpoint
{
    /// <summary>The key of the router's <see cref="HttpMessageInvoker"/> among the services.</summary>
    public const string InvokerKey = "herald-router";

    public static void Map(IEndpointRouteBuilder routes) =>
        routes.Map("/{account}/{workspace}/{**path}", ForwardAsync).WithOrder(int.MaxValue).AllowAnonymous();

    /// <summary>The router's services: YARP's forwarder and one connection pool to the apps, without proxy, redirects, cookies or decompression.</summary>
    public static IServiceCollection AddRouter(this IServiceCollection services)
    {
        services.AddHttpForwarder();
        services.AddKeyedSingleton(InvokerKey, (_, _) => new HttpMessageInvoker(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            // The app's request continues the caller's trace, as a child of the broker's span, not a copy of the caller's headers.
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.CreateDefaultPropagator()),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        }));
        return services;
    }

    private static async Task ForwardAsync(HttpContext http, string account, string workspace, string? path, AppRegistry registry, IHttpForwarder forwarder, [FromKeyedServices(InvokerKey)] HttpMessageInvoker invoker)
    {
        var appPath = "/" + (path ?? "");
        var match = registry.Current.FindRoute(account, workspace, appPath);
        if (match is null && IsVtexPlatformHost(http.Request.Host.Host))
        {
            // A VTEX IO node app's clients send their plain-http calls through HTTP_PROXY, the broker, with VTEX's host.
            await Problems.NotFound($"'{http.Request.Host.Host}' is a VTEX IO platform service, which Herald does not provide: of the calls a VTEX IO app's clients send through HTTP_PROXY, Herald serves only the Events client's (infra.io.vtex.com/courier/v0). VBase, Apps, Registry, Master Data and the platform's other services have no counterpart here.").ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        if (match is not { } found)
        {
            await Problems.NotFound($"No app linked in {account}/{workspace} declares a route for '{appPath}'. Link the app that serves it ('herald link'), or check the path against the routes 'herald apps' lists.").ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        var (app, route) = found;
        if (!route.Public && !await BrokerAuth.AuthorizeAsync(http, BrokerAuth.WorkspacePolicy).ConfigureAwait(false))
        {
            return;
        }

        var timeout = TimeSpan.FromSeconds(app.Service.Timeout);
        var error = await forwarder.SendAsync(http, app.Stored.Endpoint, invoker, new ForwarderRequestConfig { ActivityTimeout = timeout }, new Transformer(app, route, appPath)).ConfigureAwait(false);
        if (error is ForwarderError.None or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.ResponseBodyCanceled || http.Response.HasStarted)
        {
            return;
        }

        var cause = http.Features.Get<IForwarderErrorFeature>()?.Exception?.Message ?? error.ToString();
        await Problems.Of(StatusCodes.Status502BadGateway, "Bad gateway", $"The app {app.Sender} did not answer at {app.Stored.Endpoint} within {app.Service.Timeout} s: {cause}. Is it running ('herald link' shows its log)?").ExecuteAsync(http).ConfigureAwait(false);
    }

    private static readonly string[] VtexDomains = ["vtex.io", "vtex.com", "myvtex.com", "vtexcommercestable.com.br"];

    /// <summary>Whether <paramref name="host"/> is one of VTEX's, as in a request a VTEX IO app sent through its HTTP proxy.</summary>
    private static bool IsVtexPlatformHost(string host) =>
        VtexDomains.Any(domain => host.Equals(domain, StringComparison.OrdinalIgnoreCase) || host.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase));

    /// <summary>The request to the app: the caller's headers but the ones the broker sets, to <c>{endpoint}{path}{query}</c>.</summary>
    private sealed class Transformer(LinkedApp app, RouteDeclaration route, string appPath) : HttpTransformer
    {
        private static readonly string[] BrokerHeaders =
        [
            "Authorization", "Proxy-Authorization", HeraldHeaders.RouteId, HeraldHeaders.Account, HeraldHeaders.Workspace,
            HeraldHeaders.Credential, HeraldHeaders.RequestId, HeraldHeaders.WorkspaceIsProduction,
        ];

        public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
            proxyRequest.RequestUri = new Uri(app.Endpoint, appPath.TrimStart('/') + httpContext.Request.QueryString);
            proxyRequest.Headers.Host = null;
            foreach (var name in BrokerHeaders)
            {
                proxyRequest.Headers.Remove(name);
            }

            var headers = proxyRequest.Headers;
            headers.TryAddWithoutValidation(HeraldHeaders.RouteId, route.Id);
            headers.TryAddWithoutValidation(HeraldHeaders.Account, app.Account);
            headers.TryAddWithoutValidation(HeraldHeaders.Workspace, app.Workspace);
            headers.TryAddWithoutValidation(HeraldHeaders.WorkspaceIsProduction, Names.IsProduction(app.Workspace) ? "true" : "false");
            headers.TryAddWithoutValidation(HeraldHeaders.Credential, app.Token);
            headers.TryAddWithoutValidation(HeraldHeaders.RequestId, Guid.NewGuid().ToString("N"));
        }
    }
}
