using Herald.Broker.Registry;
using Herald.Broker.Security;
using Herald.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald.Broker.Http;

/// <summary>
/// The router: <c>/{account}/{workspace}{path}</c>, any method, forwarded to the app of that workspace that declares
/// a matching route, as <c>{endpoint}{path}{query}</c> with <c>x-colossus-route-id</c>, <c>x-vtex-account</c>,
/// <c>x-vtex-workspace</c>, <c>x-vtex-credential</c> and <c>x-request-id</c>. Non-public routes need a token for
/// the workspace.
/// </summary>
internal static class RouterEndpoint
{
    /// <summary>The name of the <see cref="HttpClient"/> the router forwards with.</summary>
    public const string HttpClientName = "herald-router";

    private static readonly HashSet<string> SkippedRequestHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade", "Proxy-Authorization", "Proxy-Connection",
        "Authorization", HeraldHeaders.RouteId, HeraldHeaders.Account, HeraldHeaders.Workspace, HeraldHeaders.Credential,
        HeraldHeaders.RequestId, HeraldHeaders.WorkspaceIsProduction,
    };

    private static readonly HashSet<string> SkippedResponseHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer", "Upgrade",
    };

    public static void Map(IEndpointRouteBuilder routes) =>
        routes.Map("/{account}/{workspace}/{**path}", ForwardAsync).WithOrder(int.MaxValue).AllowAnonymous();

    private static async Task ForwardAsync(HttpContext http, string account, string workspace, string? path, AppRegistry registry, IHttpClientFactory clients)
    {
        var appPath = "/" + (path ?? "");
        var match = registry.Current.FindRoute(account, workspace, appPath);
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

        using var request = new HttpRequestMessage(new HttpMethod(http.Request.Method), new Uri(app.Endpoint, appPath.TrimStart('/') + http.Request.QueryString));
        if (http.Request.ContentLength > 0 || http.Request.Headers.TransferEncoding.Count > 0)
        {
            request.Content = new StreamContent(http.Request.Body);
        }

        foreach (var (name, values) in http.Request.Headers)
        {
            if (SkippedRequestHeaders.Contains(name))
            {
                continue;
            }

            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values) && request.Content is not null)
            {
                request.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        request.Headers.TryAddWithoutValidation(HeraldHeaders.RouteId, route.Id);
        request.Headers.TryAddWithoutValidation(HeraldHeaders.Account, account);
        request.Headers.TryAddWithoutValidation(HeraldHeaders.Workspace, workspace);
        request.Headers.TryAddWithoutValidation(HeraldHeaders.WorkspaceIsProduction, Names.IsProduction(workspace) ? "true" : "false");
        request.Headers.TryAddWithoutValidation(HeraldHeaders.Credential, app.Token);
        request.Headers.TryAddWithoutValidation(HeraldHeaders.RequestId, Guid.NewGuid().ToString("N"));

        HttpResponseMessage response;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            timeout.CancelAfter(TimeSpan.FromSeconds(app.Service.Timeout));
            response = await clients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !http.RequestAborted.IsCancellationRequested)
        {
            await Problems.Of(StatusCodes.Status502BadGateway, "Bad gateway", $"The app {app.Sender} did not answer at {app.Stored.Endpoint} within {app.Service.Timeout} s: {ex.Message}. Is it running ('herald link' shows its log)?").ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        using (response)
        {
            http.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!SkippedResponseHeaders.Contains(name))
                {
                    http.Response.Headers[name] = values.ToArray();
                }
            }

            await response.Content.CopyToAsync(http.Response.Body, http.RequestAborted).ConfigureAwait(false);
        }
    }
}
