using System.Collections.Frozen;
using System.Security.Cryptography;
using Herald.Broker.Admin;
using Herald.Broker.Registry;
using Herald.Protocol;
using Herald.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Herald.Broker.Http;

/// <summary>
/// The dashboard at <c>/_herald/ui</c>: a page, a script and a style sheet embedded in this assembly (they hold no data,
/// so they are served without a token), and the two admin calls it needs besides the admin API's own:
/// <c>GET /_herald/v1/workspaces</c> and <c>GET /_herald/v1/{account}/{workspace}/lag</c>. Every data call the page
/// makes carries the admin token it asks for.
/// </summary>
internal static class DashboardEndpoints
{
    /// <summary>
    /// The page may load only what the broker serves and run no inline script; it is never framed (clickjacking) and its
    /// forms post nowhere.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private const string ResourcePrefix = "Herald.Dashboard.";

    private static readonly Lazy<FrozenDictionary<string, Asset>> s_assets = new(LoadAssets);

    public static void Map(IEndpointRouteBuilder routes)
    {
        routes.MapGet(HeraldBroker.DashboardPath, (HttpContext http) => Serve(http, "index.html")).AllowAnonymous();
        routes.MapGet(HeraldBroker.DashboardPath + "/{file}", (HttpContext http, string file) => Serve(http, file)).AllowAnonymous();
        routes.MapGet(HeraldPaths.AdminPrefix + "/workspaces", ListWorkspaces).RequireAuthorization(BrokerAuth.AdminPolicy);
        routes.MapGet(HeraldPaths.AdminPrefix + "/{account}/{workspace}/lag", LagAsync).RequireAuthorization(BrokerAuth.AdminPolicy);
    }

    private static IResult ListWorkspaces(AppRegistry registry) =>
        Results.Ok(new WorkspacesResponse(registry.Current.Apps
            .GroupBy(a => (a.Account, a.Workspace))
            .OrderBy(g => g.Key.Account, StringComparer.Ordinal).ThenBy(g => g.Key.Workspace, StringComparer.Ordinal)
            .Select(g => new WorkspaceInfo(g.Key.Account, g.Key.Workspace, g.Count(), g.Sum(a => a.Subscriptions.Count)))
            .ToList()));

    private static async Task<IResult> LagAsync(string account, string workspace, AppRegistry registry, IEventStore store, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var ids = registry.Current.AppsIn(account, workspace).SelectMany(a => a.Subscriptions).Select(s => s.Id).ToList();
        IReadOnlyDictionary<string, DateTimeOffset> oldest;
        try
        {
            oldest = ids.Count == 0 ? FrozenDictionary<string, DateTimeOffset>.Empty : await store.OldestUndeliveredAsync(ids, cancellationToken).ConfigureAwait(false);
        }
        catch (StoreUnavailableException ex)
        {
            return Problems.Unavailable("The broker's store does not answer, so the lag cannot be read: " + ex.Message);
        }

        var now = timeProvider.GetUtcNow();
        return Results.Ok(new LagResponse(now, ids.Select(id => oldest.TryGetValue(id, out var time)
            ? new SubscriptionLag(id, time, Math.Max(0, (now - time).TotalSeconds))
            : new SubscriptionLag(id, null, 0)).ToList()));
    }

    private static IResult Serve(HttpContext http, string file)
    {
        if (!s_assets.Value.TryGetValue(file, out var asset))
        {
            return Problems.NotFound($"The dashboard has no file '{file}'. Open {HeraldBroker.DashboardPath}.");
        }

        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        // Revalidated on every load, so a broker upgrade's page is never mixed with an old script.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        if (http.Request.Headers.IfNoneMatch.Contains(asset.ETag))
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static FrozenDictionary<string, Asset> LoadAssets()
    {
        var assembly = typeof(DashboardEndpoints).Assembly;
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var file = name[ResourcePrefix.Length..];
            var contentType = Path.GetExtension(file) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            var etag = "\"" + Convert.ToHexString(SHA256.HashData(content), 0, 8).ToLowerInvariant() + "\"";
            assets[file] = new Asset(content, contentType, etag);
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private sealed record Asset(byte[] Content, string ContentType, string ETag);
}
