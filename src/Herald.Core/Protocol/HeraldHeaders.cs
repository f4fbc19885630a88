namespace Herald.Protocol;

/// <summary>HTTP header names of the wire protocol (DESIGN §3).</summary>
public static class HeraldHeaders
{
    public const string EventHandlerId = "x-event-handler-id";
    public const string EventKey = "x-event-key";
    public const string EventSender = "x-event-sender";
    public const string EventSubject = "x-event-subject";
    public const string EventId = "x-event-id";
    public const string EventAttempt = "x-event-attempt";
    public const string EventTime = "x-event-time";
    public const string Account = "x-vtex-account";
    public const string Workspace = "x-vtex-workspace";
    public const string WorkspaceIsProduction = "x-vtex-workspace-is-production";
    public const string Credential = "x-vtex-credential";
    public const string RequestId = "x-request-id";
    public const string OperationId = "x-vtex-operation-id";
    public const string RouteId = "x-colossus-route-id";
    public const string TraceParent = "traceparent";
    public const string WebhookId = "webhook-id";
    public const string WebhookTimestamp = "webhook-timestamp";
    public const string WebhookSignature = "webhook-signature";
    public const string IdempotencyKey = "Idempotency-Key";
    public const string ContextSignature = "x-herald-signature";
}

/// <summary>Paths of the wire protocol (DESIGN §3).</summary>
public static class HeraldPaths
{
    /// <summary>The prefix under which <c>@vtex/api</c>'s Events client publishes.</summary>
    public const string CourierPrefix = "/courier/v0";

    /// <summary>The prefix under which VTEX's toolbelt reads the live event stream.</summary>
    public const string ColossusPrefix = "/colossus/v0";

    /// <summary>The prefix of the admin API.</summary>
    public const string AdminPrefix = "/_herald/v1";

    /// <summary>The path segment an app receives deliveries on: <c>/{account}/{workspace}/_events</c>.</summary>
    public const string EventsEndpointSegment = "_events";

    /// <summary>The path segment of publish and tail: <c>/{account}/{workspace}/events</c>.</summary>
    public const string EventsSegment = "events";

    /// <summary>The delivery path of an app for an (account, workspace).</summary>
    public static string DeliveryPath(string account, string workspace) => $"/{account}/{workspace}/{EventsEndpointSegment}";
}
