using System.Text.Json;

namespace Herald.Broker.Admin;

// The admin API's request and response bodies (/_herald/v1). JSON names are camelCase.

/// <summary>Body of <c>PUT /_herald/v1/{account}/{workspace}/apps/{vendor.name}</c>.</summary>
/// <param name="Manifest">The app's manifest.json, as JSON.</param>
/// <param name="Service">The app's service.json, as JSON.</param>
/// <param name="Endpoint">Where the app listens, e.g. <c>http://127.0.0.1:5123</c>.</param>
public sealed record LinkRequest(JsonElement Manifest, JsonElement Service, string Endpoint);

/// <summary>Answer to a link: the app's credentials (shown once), subscriptions and route URLs.</summary>
public sealed record LinkResponse(
    string App,
    string Account,
    string Workspace,
    string Token,
    string SigningSecret,
    IReadOnlyList<SubscriptionInfo> Subscriptions,
    IReadOnlyList<RouteInfo> Routes);

/// <summary>A route of a linked app and its URL through the broker's router.</summary>
public sealed record RouteInfo(string Id, string Path, string Url);

/// <summary>A subscription and its delivery counts.</summary>
public sealed record SubscriptionInfo(
    string Id,
    string HandlerId,
    string? Sender,
    IReadOnlyList<string> Keys,
    long Pending,
    long InFlight,
    long Delivered,
    long Dead);

/// <summary>A linked app.</summary>
public sealed record AppInfo(
    string App,
    string Sender,
    string Endpoint,
    DateTimeOffset LinkedAt,
    IReadOnlyList<SubscriptionInfo> Subscriptions,
    IReadOnlyList<RouteInfo> Routes);

/// <summary>Answer to <c>GET /_herald/v1/{account}/{workspace}/apps</c>.</summary>
public sealed record AppsResponse(IReadOnlyList<AppInfo> Apps);

/// <summary>One attempt of a delivery.</summary>
/// <param name="Attempt">1-based attempt number.</param>
/// <param name="At">When it started.</param>
/// <param name="DurationMs">How long it took.</param>
/// <param name="Status">The HTTP status, when the app answered.</param>
/// <param name="Error">What went wrong, when it did not answer or answered an error.</param>
public sealed record AttemptInfo(int Attempt, DateTimeOffset At, double DurationMs, int? Status, string? Error);

/// <summary>A dead letter: the event, the subscription, the reason and every attempt.</summary>
public sealed record DeadLetterInfo(
    string Id,
    string EventId,
    string SubscriptionId,
    string App,
    string HandlerId,
    string Sender,
    string Key,
    string Subject,
    DateTimeOffset EventTime,
    DateTimeOffset DeadAt,
    string Reason,
    JsonElement Body,
    IReadOnlyList<AttemptInfo> Attempts);

/// <summary>Answer to <c>GET /_herald/v1/{account}/{workspace}/deadletters</c>.</summary>
public sealed record DeadLettersResponse(IReadOnlyList<DeadLetterInfo> DeadLetters);

/// <summary>
/// Body of <c>POST /_herald/v1/{account}/{workspace}/deadletters/redrive</c>: give <see cref="Ids"/>, or a
/// <see cref="Subscription"/>, or <see cref="Since"/> (or a subscription and a time). <see cref="Limit"/> (1 to
/// 10,000) takes at most that many, those dead longest first; call again until <c>remaining</c> is 0 to go in batches.
/// </summary>
public sealed record RedriveRequest(IReadOnlyList<string>? Ids, string? Subscription, DateTimeOffset? Since, int? Limit = null);

/// <summary>Answer to a redrive: how many were redriven, and how many dead letters still match.</summary>
public sealed record RedriveResponse(int Redriven, long Remaining);

/// <summary>Answer to <c>POST /_herald/v1/{account}/{workspace}/deadletters/purge</c> (same body as a redrive).</summary>
public sealed record PurgeResponse(int Purged, long Remaining);

/// <summary>
/// Body of <c>POST /_herald/v1/{account}/{workspace}/apps/{vendor.name}/subscriptions/{handlerId}/replay</c>:
/// deliver again every event routed to the subscription since <see cref="Since"/>, delivered ones included.
/// </summary>
public sealed record ReplayRequest(DateTimeOffset Since);

/// <summary>Answer to a replay.</summary>
public sealed record ReplayResponse(int Replayed);

/// <summary>Answer to a publish (public or admin route): the event id and how many deliveries it made.</summary>
public sealed record PublishResponse(string Id, int Deliveries);

/// <summary>
/// One line of the delivery activity stream (<c>GET /_herald/v1/{account}/{workspace}/activity</c>, SSE):
/// what happened to one attempt.
/// </summary>
/// <param name="Kind"><c>published</c>, <c>delivered</c>, <c>retrying</c> or <c>dead</c>.</param>
public sealed record ActivityInfo(
    string Kind,
    string EventId,
    string Key,
    string Sender,
    string? App,
    string? HandlerId,
    int? Attempt,
    int? Status,
    string? Error,
    DateTimeOffset At)
{
    /// <summary>The account the event belongs to.</summary>
    public string Account { get; init; } = "";

    /// <summary>The workspace the event belongs to.</summary>
    public string Workspace { get; init; } = "";
}
