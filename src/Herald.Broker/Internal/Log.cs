using Microsoft.Extensions.Logging;

namespace Herald.Broker;

/// <summary>The broker's log messages. Tokens and secrets are never logged.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Herald broker listening on {Url}, data in {DataDirectory}")]
    public static partial void Listening(ILogger logger, string url, string dataDirectory);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Listening on {Url}, which is not a loopback address, without TLS: app tokens, the admin token and events travel in clear text to anyone who can reach it. Bind to 127.0.0.1, or put TLS in front (an https:// URL or a reverse proxy).")]
    public static partial void InsecureBind(ILogger logger, string url);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Loaded {Count} linked apps")]
    public static partial void AppsLoaded(ILogger logger, int count);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Delivering subscription {SubscriptionId} with concurrency {Concurrency}")]
    public static partial void WorkerStarted(ILogger logger, string subscriptionId, int concurrency);

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "Stopped delivering subscription {SubscriptionId}")]
    public static partial void WorkerStopped(ILogger logger, string subscriptionId);

    [LoggerMessage(EventId = 18, Level = LogLevel.Warning, Message = "Could not open the queue of {SubscriptionId}; it is not delivered until a retry, every poll interval, opens it")]
    public static partial void QueueOpenFailed(ILogger logger, string subscriptionId, Exception exception);

    [LoggerMessage(EventId = 19, Level = LogLevel.Debug, Message = "Still cannot open the queue of {SubscriptionId}: {Reason}; retrying")]
    public static partial void QueueOpenRetryFailed(ILogger logger, string subscriptionId, string reason);

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "The loop that retries unopened queues failed; it goes on at the next interval")]
    public static partial void ReopenLoopFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Could not lease deliveries of {SubscriptionId}; retrying")]
    public static partial void LeaseFailed(ILogger logger, string subscriptionId, Exception exception);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Could not settle deliveries of {SubscriptionId} (try {Try}); retrying, the deliveries stay leased")]
    public static partial void SettleFailed(ILogger logger, string subscriptionId, int @try, Exception? exception);

    [LoggerMessage(EventId = 14, Level = LogLevel.Error, Message = "A delivery attempt of {SubscriptionId} failed unexpectedly; its lease runs out and the delivery is attempted again")]
    public static partial void AttemptFailed(ILogger logger, string subscriptionId, Exception exception);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "Could not extend the leases of {SubscriptionId}; retrying at the next tick")]
    public static partial void ExtendFailed(ILogger logger, string subscriptionId, Exception exception);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "Stopping {SubscriptionId} past the grace period: attempts still running are abandoned and will be made again")]
    public static partial void ShutdownAbandoned(ILogger logger, string subscriptionId);

    [LoggerMessage(EventId = 32, Level = LogLevel.Warning, Message = "Watching the store's registry failed; watching again shortly")]
    public static partial void RegistryWatchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 20, Level = LogLevel.Error, Message = "The store refused a publish to {Account}/{Workspace}; answered 503")]
    public static partial void PublishStoreUnavailable(ILogger logger, string account, string workspace, Exception exception);

    [LoggerMessage(EventId = 42, Level = LogLevel.Warning, Message = "Reading the subscriptions' backlog for the metrics failed; the gauges keep the last counts")]
    public static partial void BacklogSampleFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 40, Level = LogLevel.Information, Message = "Pruned {Count} delivered events past retention")]
    public static partial void Pruned(ILogger logger, int count);

    [LoggerMessage(EventId = 41, Level = LogLevel.Warning, Message = "Pruning failed; it will try again at its next run")]
    public static partial void PruneFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 17, Level = LogLevel.Warning, Message = "Dead-lettered event {EventId} ({Key} from {Sender}) for {SubscriptionId} in {Account}/{Workspace} after attempt {Attempt}: {Reason}")]
    public static partial void DeadLettered(ILogger logger, string eventId, string key, string sender, string subscriptionId, string account, string workspace, int attempt, string reason);

    [LoggerMessage(EventId = 60, Level = LogLevel.Information, Message = "Audit: linked {App} in {Account}/{Workspace} at {Endpoint} ({Subscriptions} subscriptions), from {Remote}")]
    public static partial void Linked(ILogger logger, string app, string account, string workspace, string endpoint, int subscriptions, string remote);

    [LoggerMessage(EventId = 61, Level = LogLevel.Information, Message = "Audit: unlinked {App} from {Account}/{Workspace}, from {Remote}")]
    public static partial void Unlinked(ILogger logger, string app, string account, string workspace, string remote);

    [LoggerMessage(EventId = 62, Level = LogLevel.Information, Message = "Audit: redrove {Count} dead letters in {Account}/{Workspace} ({Selector}), from {Remote}")]
    public static partial void Redriven(ILogger logger, int count, string account, string workspace, string selector, string remote);

    [LoggerMessage(EventId = 63, Level = LogLevel.Information, Message = "Audit: purged {Count} dead letters in {Account}/{Workspace} ({Selector}), from {Remote}")]
    public static partial void Purged(ILogger logger, int count, string account, string workspace, string selector, string remote);

    [LoggerMessage(EventId = 64, Level = LogLevel.Information, Message = "Audit: replayed {Count} events to {SubscriptionId} in {Account}/{Workspace} since {Since:O}, from {Remote}")]
    public static partial void Replayed(ILogger logger, int count, string subscriptionId, string account, string workspace, DateTimeOffset since, string remote);

    [LoggerMessage(EventId = 70, Level = LogLevel.Warning, Message = "Refused {Method} {Path} from {Remote}: {Reason}")]
    public static partial void CredentialRefused(ILogger logger, string method, string path, string remote, string reason);

    [LoggerMessage(EventId = 71, Level = LogLevel.Debug, Message = "Refused {Method} {Path} from {Remote}: no bearer token")]
    public static partial void CredentialMissing(ILogger logger, string method, string path, string remote);

    [LoggerMessage(EventId = 50, Level = LogLevel.Warning, Message = "Relaying the live feeds to the other brokers failed while {Loop}; it goes on after a pause")]
    public static partial void FeedRelayFailed(ILogger logger, string loop, Exception exception);

    [LoggerMessage(EventId = 51, Level = LogLevel.Debug, Message = "Left out a batch on the {Feed} feed that this broker cannot read: {Reason}")]
    public static partial void FeedBatchUnreadable(ILogger logger, string feed, string reason);
}
