using Herald.Protocol;
using Microsoft.Extensions.Logging;

namespace Herald.Sdk.Internal;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Herald service {App} ready in {Account}/{Workspace}: events [{Events}], routes [{Routes}]")]
    public static partial void ServiceReady(ILogger logger, string app, string account, string workspace, string events, string routes);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Refused a delivery to handler '{HandlerId}': signature {Check}")]
    public static partial void SignatureRejected(ILogger logger, string handlerId, SignatureCheck check);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Event handler not found for {HandlerId}")]
    public static partial void UnknownEventHandler(ILogger logger, string handlerId);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Refused a delivery to handler '{HandlerId}': body not JSON ({Reason})")]
    public static partial void EventBodyNotJson(ILogger logger, string handlerId, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Handler '{HandlerId}' is at its rate limit; answered 429")]
    public static partial void EventRateLimited(ILogger logger, string handlerId);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "Handler '{HandlerId}' handled event {EventId} (attempt {Attempt}) in {ElapsedMs} ms")]
    public static partial void EventHandled(ILogger logger, string handlerId, string eventId, int attempt, double elapsedMs);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Handler '{HandlerId}' answered {Status} to event {EventId} (attempt {Attempt}): {Reason}")]
    public static partial void EventHandlerAnswered(ILogger logger, string handlerId, string eventId, int attempt, int status, string reason);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "Handler '{HandlerId}' failed on event {EventId} (attempt {Attempt})")]
    public static partial void EventHandlerFailed(ILogger logger, string handlerId, string eventId, int attempt, Exception exception);

    [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "Handler '{HandlerId}' was cancelled on event {EventId} (attempt {Attempt})")]
    public static partial void EventHandlerCancelled(ILogger logger, string handlerId, string eventId, int attempt);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Route not found for {RouteId}")]
    public static partial void UnknownRoute(ILogger logger, string routeId);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Route '{RouteId}' is at its rate limit; answered 429")]
    public static partial void RouteRateLimited(ILogger logger, string routeId);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "Route '{RouteId}' answered {Status}: {Reason}")]
    public static partial void RouteAnswered(ILogger logger, string routeId, int status, string reason);

    [LoggerMessage(EventId = 13, Level = LogLevel.Error, Message = "Route '{RouteId}' failed")]
    public static partial void RouteFailed(ILogger logger, string routeId, Exception exception);

    [LoggerMessage(EventId = 14, Level = LogLevel.Debug, Message = "Fired '{Key}' in {Account}/{Workspace}: event {EventId}")]
    public static partial void EventSent(ILogger logger, string key, string account, string workspace, string eventId);
}
