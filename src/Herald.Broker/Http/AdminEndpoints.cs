using System.Net;
using System.Text.Json;
using Herald.Broker.Admin;
using Herald.Broker.Registry;
using Herald.Broker.Security;
using Herald.Storage;
using Herald.Manifests;
using Herald.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Herald.Broker.Http;

/// <summary>The admin API under <c>/_herald/v1</c>: link, unlink, apps, dead letters. Every call needs the admin token (<see cref="BrokerAuth.AdminPolicy"/>).</summary>
internal static class AdminEndpoints
{
    /// <summary>The most dead letters one list returns.</summary>
    public const int MaxDeadLetters = 1000;

    /// <summary>The most dead letters one redrive or purge batch may take.</summary>
    public const int MaxBatch = 10_000;

    public static void Map(IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup(HeraldPaths.AdminPrefix + "/{account}/{workspace}").RequireAuthorization(BrokerAuth.AdminPolicy);
        admin.MapPut("/apps/{app}", LinkAsync);
        admin.MapDelete("/apps/{app}", UnlinkAsync);
        admin.MapGet("/apps", ListAppsAsync);
        admin.MapGet("/deadletters", ListDeadLettersAsync);
        admin.MapPost("/deadletters/redrive", RedriveAsync);
        admin.MapPost("/deadletters/purge", PurgeAsync);
        admin.MapPost("/apps/{app}/subscriptions/{handler}/replay", ReplayAsync);
    }

    private static async Task<IResult> LinkAsync(HttpContext http, string account, string workspace, string app, AppRegistry registry)
    {
        if (!Names.IsSender(app))
        {
            return Problems.BadRequest($"The app '{app}' is not valid: it must be {Names.SenderRule} (vendor.name from manifest.json).");
        }

        LinkRequest? request;
        try
        {
            request = await http.Request.ReadFromJsonAsync<LinkRequest>(http.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            return Problems.BadRequest("The link body must be JSON {\"manifest\": {...}, \"service\": {...}, \"endpoint\": \"http://127.0.0.1:PORT\"}: " + ex.Message);
        }

        if (request is null || request.Manifest.ValueKind != JsonValueKind.Object || request.Service.ValueKind != JsonValueKind.Object)
        {
            return Problems.BadRequest("The link body must carry 'manifest' and 'service' as JSON objects (the app's manifest.json and dotnet/service.json).");
        }

        if (EndpointError(request.Endpoint, http.RequestServices.GetRequiredService<BrokerOptions>().AllowedEndpointHosts) is { } endpointError)
        {
            return Problems.BadRequest(endpointError);
        }

        LinkedApp linked;
        try
        {
            linked = await registry.LinkAsync(account, workspace, app, request.Manifest, request.Service, request.Endpoint, http.RequestAborted).ConfigureAwait(false);
        }
        catch (ManifestException ex)
        {
            return Problems.BadRequest(ex.Message);
        }

        Log.Linked(Audit(http), app, account, workspace, linked.Stored.Endpoint, linked.Subscriptions.Count, BrokerAuth.Remote(http));
        var baseUrl = BaseUrl(http);
        return Results.Ok(new LinkResponse(linked.Manifest.AppId, account, workspace, linked.Token, linked.SigningSecret,
            linked.Subscriptions.Select(s => Info(s, DeliveryCounts.Zero)).ToList(), Routes(linked, baseUrl)));
    }

    private static async Task<IResult> UnlinkAsync(HttpContext http, string account, string workspace, string app, AppRegistry registry, CancellationToken cancellationToken)
    {
        if (!Names.IsSender(app))
        {
            return Problems.BadRequest($"The app '{app}' is not valid: it must be {Names.SenderRule}.");
        }

        if (!await registry.UnlinkAsync(account, workspace, app, cancellationToken).ConfigureAwait(false))
        {
            return Problems.NotFound($"No app '{app}' is linked in {account}/{workspace}. 'herald apps' lists the linked apps.");
        }

        Log.Unlinked(Audit(http), app, account, workspace, BrokerAuth.Remote(http));
        return Results.NoContent();
    }

    private static async Task<IResult> ListAppsAsync(HttpContext http, string account, string workspace, AppRegistry registry, IEventStore store, CancellationToken cancellationToken)
    {
        var apps = registry.Current.AppsIn(account, workspace);
        var counts = await store.CountAsync(apps.SelectMany(a => a.Subscriptions).Select(s => s.Id).ToList(), cancellationToken).ConfigureAwait(false);
        var baseUrl = BaseUrl(http);
        return Results.Ok(new AppsResponse(apps.OrderBy(a => a.Sender, StringComparer.Ordinal).Select(a => new AppInfo(
            a.Manifest.AppId, a.Sender, a.Stored.Endpoint, a.Stored.LinkedAt,
            a.Subscriptions.Select(s => Info(s, counts.GetValueOrDefault(s.Id, DeliveryCounts.Zero))).ToList(),
            Routes(a, baseUrl))).ToList()));
    }

    private static async Task<IResult> ListDeadLettersAsync(string account, string workspace, string? subscription, int? limit, IDeadLetterStore store, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > MaxDeadLetters)
        {
            return Problems.BadRequest($"'limit' must be from 1 to {MaxDeadLetters}; found {limit}.");
        }

        var letters = await store.ListDeadLettersAsync(account, workspace, subscription, limit ?? 100, cancellationToken).ConfigureAwait(false);
        return Results.Ok(new DeadLettersResponse(letters.Select(Info).ToList()));
    }

    private static async Task<IResult> RedriveAsync(HttpContext http, string account, string workspace, IDeadLetterStore store)
    {
        var (selector, error) = await ReadSelectorAsync(http, "redrive").ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        try
        {
            // Remaining: of the letters there when this call began, those it did not take. Counted after the redrive,
            // it would also count redriven letters that died again meanwhile (an app that refuses at once), and a
            // client stopping at the first call's total would take some of them twice.
            var before = await store.CountDeadLettersAsync(account, workspace, selector!, http.RequestAborted).ConfigureAwait(false);
            var count = await store.RedriveAsync(account, workspace, selector!, http.RequestAborted).ConfigureAwait(false);
            Log.Redriven(Audit(http), count, account, workspace, Describe(selector!), BrokerAuth.Remote(http));
            return Results.Ok(new RedriveResponse(count, Math.Max(0, before - count)));
        }
        catch (InvalidStoreIdException ex)
        {
            return InvalidId(ex);
        }
    }

    private static async Task<IResult> PurgeAsync(HttpContext http, string account, string workspace, IDeadLetterStore store)
    {
        var (selector, error) = await ReadSelectorAsync(http, "purge").ConfigureAwait(false);
        if (error is not null)
        {
            return error;
        }

        try
        {
            var purged = await store.PurgeAsync(account, workspace, selector!, http.RequestAborted).ConfigureAwait(false);
            Log.Purged(Audit(http), purged, account, workspace, Describe(selector!), BrokerAuth.Remote(http));
            return Results.Ok(new PurgeResponse(purged, await store.CountDeadLettersAsync(account, workspace, selector!, http.RequestAborted).ConfigureAwait(false)));
        }
        catch (InvalidStoreIdException ex)
        {
            return InvalidId(ex);
        }
    }

    private static IResult InvalidId(InvalidStoreIdException ex) =>
        Problems.BadRequest($"The dead letter id '{ex.Id}' is not valid: ids are the ones 'herald deadletters list' shows ({ex.Message}).");

    private static async Task<(DeadLetterSelector? Selector, IResult? Error)> ReadSelectorAsync(HttpContext http, string verb)
    {
        RedriveRequest? request;
        try
        {
            request = await http.Request.ReadFromJsonAsync<RedriveRequest>(http.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            return (null, Problems.BadRequest($"The {verb} body must be JSON {{\"ids\": [...]}} or {{\"subscription\": \"...\"}} or {{\"since\": \"2026-01-01T00:00:00Z\"}}: " + ex.Message));
        }

        if (request is null || (request.Ids is not { Count: > 0 } && request.Subscription is null && request.Since is null))
        {
            return (null, Problems.BadRequest($"Say which dead letters to {verb}: 'ids', a 'subscription', a 'since' time, or a subscription and a time."));
        }

        if (request.Limit is < 1 or > MaxBatch)
        {
            return (null, Problems.BadRequest($"'limit' must be from 1 to {MaxBatch}; found {request.Limit}. Leave it out to {verb} every match at once."));
        }

        if (request.Ids?.FirstOrDefault(string.IsNullOrWhiteSpace) is { } blank)
        {
            return (null, Problems.BadRequest($"The dead letter id '{blank}' is not valid: ids are the ones 'herald deadletters list' shows."));
        }

        return (new DeadLetterSelector(request.Ids, request.Subscription, request.Since, request.Limit), null);
    }

    private static async Task<IResult> ReplayAsync(HttpContext http, string account, string workspace, string app, string handler, AppRegistry registry)
    {
        var subscription = registry.Current.FindApp(account, workspace, app)?.Subscriptions.FirstOrDefault(s => s.HandlerId == handler);
        if (subscription is null)
        {
            return Problems.NotFound($"No subscription '{handler}' of an app '{app}' linked in {account}/{workspace}. 'herald apps' lists the subscriptions.");
        }

        if (http.RequestServices.GetService<IRetentionStore>() is not { } store)
        {
            return Problems.Of(StatusCodes.Status501NotImplemented, "Not implemented", "This broker's store cannot replay.");
        }

        ReplayRequest? request;
        try
        {
            request = await http.Request.ReadFromJsonAsync<ReplayRequest>(http.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            return Problems.BadRequest("The replay body must be JSON {\"since\": \"2026-01-01T00:00:00Z\"}: " + ex.Message);
        }

        if (request is null || request.Since == default)
        {
            return Problems.BadRequest("Say from when to replay: {\"since\": \"2026-01-01T00:00:00Z\"}. Events older than the broker's retention (7 days by default) may have been pruned.");
        }

        var count = await store.ReplayAsync(subscription.Id, request.Since, http.RequestAborted).ConfigureAwait(false);
        Log.Replayed(Audit(http), count, subscription.Id, account, workspace, request.Since, BrokerAuth.Remote(http));
        return Results.Ok(new ReplayResponse(count));
    }

    private static ILogger Audit(HttpContext http) => http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(HeraldBroker.AuditLogCategory);

    private static string Describe(DeadLetterSelector selector)
    {
        var parts = new List<string>();
        if (selector.Ids is { Count: > 0 } ids)
        {
            parts.Add($"{ids.Count} ids");
        }

        if (selector.SubscriptionId is { } subscription)
        {
            parts.Add("subscription " + subscription);
        }

        if (selector.DeadSince is { } since)
        {
            parts.Add("since " + since.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        }

        if (selector.Limit is { } limit)
        {
            parts.Add($"at most {limit}");
        }

        return string.Join(", ", parts);
    }

    private static SubscriptionInfo Info(Subscription s, DeliveryCounts counts) =>
        new(s.Id, s.HandlerId, s.Declaration.Sender, s.Declaration.Keys, counts.Pending, counts.InFlight, counts.Delivered, counts.Dead);

    private static DeadLetterInfo Info(StoredDeadLetter d)
    {
        var parts = d.SubscriptionId.Split('/');
        using var body = JsonDocument.Parse(d.Event.Body);
        return new DeadLetterInfo(d.Id, d.Event.Id.ToString(), d.SubscriptionId,
            parts.Length == 4 ? parts[2] : "", parts.Length == 4 ? parts[3] : "", d.Event.Sender, d.Event.Key, d.Event.Subject,
            d.Event.Time, d.DeadAt, d.Reason, body.RootElement.Clone(),
            d.Attempts.Select(a => new AttemptInfo(a.Attempt, a.StartedAt, a.Duration.TotalMilliseconds, a.Status, a.Error)).ToList());
    }

    private static List<RouteInfo> Routes(LinkedApp app, string baseUrl) =>
        app.Service.Routes.Values.Select(r => new RouteInfo(r.Id, r.Path.Text, $"{baseUrl}/{app.Account}/{app.Workspace}{r.Path.Text}")).ToList();

    private static string BaseUrl(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}";

    /// <summary>What is wrong with an app endpoint: it must be an http(s) URL on a loopback address or an allowed host.</summary>
    public static string? EndpointError(string? endpoint, ICollection<string> allowedHosts)
    {
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query))
        {
            return $"The endpoint '{endpoint}' is not valid: it must be the app's base URL, e.g. http://127.0.0.1:5123.";
        }

        var loopback = uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        var allowed = allowedHosts.Contains(uri.Host, StringComparer.OrdinalIgnoreCase);
        return loopback || allowed ? null : $"The endpoint '{endpoint}' is not on this machine: Herald delivers only to loopback addresses (127.0.0.0/8, ::1, localhost) and to hosts in the broker's AllowedEndpointHosts option (the configuration key Herald:AllowedEndpointHosts).";
    }
}
