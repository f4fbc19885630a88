using System.CommandLine;
using System.Globalization;

namespace Herald.Cli.Commands;

/// <summary><c>herald replay vendor.name/handlerId --since TIME</c>: delivers again every event routed to a subscription since a time.</summary>
internal static class ReplayCommand
{
    public static Command Create(CliEnvironment environment, GlobalOptions globals)
    {
        var subscription = new Argument<string>("subscription")
        {
            Description = "The subscription: vendor.name/handlerId (as 'herald apps' shows), e.g. vtex.live-users/liveUsersUpdate.",
        };
        var since = new Option<string>("--since")
        {
            Description = "Replay events accepted since this time: ISO-8601 (2025-01-31T12:00:00Z) or an age (30m, 2h, 1d). Events past the broker's retention (7 days by default) are gone.",
            HelpName = "TIME",
            Required = true,
        };
        var command = new Command("replay", "Deliver again every event routed to a subscription since a time, delivered ones included.") { subscription, since };
        CommandRunner.SetAction(command, environment, async (parse, cancellationToken) =>
        {
            var target = globals.Target(parse, environment);
            var (app, handler) = SubscriptionName.Parse(parse.GetValue(subscription)!, target.Account, target.Workspace);
            var sinceText = parse.GetValue(since)!;
            var sinceTime = DeadLettersCommand.ParseSince(sinceText, DateTimeOffset.UtcNow)
                ?? throw new CliException($"--since '{sinceText}' is not a time: give ISO-8601 such as 2025-01-31T12:00:00Z, or an age such as 30m, 2h or 1d.");
            using var broker = new BrokerClient(target);
            var response = await broker.ReplayAsync(app, handler, sinceTime, cancellationToken).ConfigureAwait(false);
            environment.Out.WriteLine($"Replaying {response.Replayed.ToString(CultureInfo.InvariantCulture)} {(response.Replayed == 1 ? "event" : "events")} to {app}/{handler} in {broker.Account}/{broker.Workspace}.");
            return ExitCodes.Ok;
        });
        return command;
    }
}

/// <summary>
/// A subscription as the user names it: <c>vendor.name/handlerId</c>, or the full id
/// <c>account/workspace/vendor.name/handlerId</c> when it names the current account and workspace.
/// </summary>
internal static class SubscriptionName
{
    public static (string App, string Handler) Parse(string subscription, string account, string workspace)
    {
        var parts = subscription.Split('/');
        if (parts.Length == 4 && (parts[0] != account || parts[1] != workspace))
        {
            throw new CliException($"'{subscription}' belongs to {parts[0]}/{parts[1]}, but you are working in {account}/{workspace}. Switch with 'herald use {parts[1]} --account {parts[0]}'.");
        }

        if (parts.Length is 2 or 4 && Names.IsSender(parts[^2]) && Names.IsHandlerId(parts[^1]))
        {
            return (parts[^2], parts[^1]);
        }

        throw new CliException($"'{subscription}' is not a subscription: give vendor.name/handlerId, e.g. vtex.live-users/liveUsersUpdate ('herald apps' lists them).");
    }

    /// <summary>The full subscription id.</summary>
    public static string Id(string subscription, string account, string workspace)
    {
        var (app, handler) = Parse(subscription, account, workspace);
        return $"{account}/{workspace}/{app}/{handler}";
    }
}
