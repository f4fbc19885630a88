using Herald.Sdk;

namespace EventsExample;

/// <summary>
/// Every <c>EVENTS_EXAMPLE_INTERVAL_SECONDS</c> (default 30), fires <c>send-event</c> with <c>{"random": 0..100}</c>
/// in the context the healthcheck cached; before the healthcheck has been called, logs that there is no context.
/// </summary>
public sealed partial class EventFirer(ContextCache cache, EventsClient events, IConfiguration configuration, TimeProvider timeProvider, ILogger<EventFirer> logger)
    : BackgroundService
{
    public const string IntervalKey = "EVENTS_EXAMPLE_INTERVAL_SECONDS";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seconds = configuration.GetValue(IntervalKey, 30d);
        if (seconds <= 0)
        {
            throw new InvalidOperationException($"{IntervalKey} must be a positive number of seconds, but is {seconds}.");
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(seconds), timeProvider);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await TickAsync(stoppingToken);
        }
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        if (cache.Current is not { } context)
        {
            NoContext(logger);
            return;
        }

        var random = Random.Shared.Next(0, 101);
        try
        {
            var id = await events.SendEventAsync(context, "send-event", new { random }, cancellationToken: cancellationToken);
            Fired(logger, random, context.Account, context.Workspace, id);
        }
        catch (HeraldClientException e)
        {
            FireFailed(logger, e.Message);
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "no context in memory")]
    private static partial void NoContext(ILogger logger);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "fired send-event {{\"random\": {Random}}} in {Account}/{Workspace}: event {EventId}")]
    private static partial void Fired(ILogger logger, int random, string account, string workspace, string eventId);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "could not fire send-event: {Reason}")]
    private static partial void FireFailed(ILogger logger, string reason);
}
