using System.CommandLine;
using System.Globalization;
using Herald.Broker.Admin;

namespace Herald.Cli.Commands;

/// <summary><c>herald deadletters list|redrive|purge</c>: shows dead letters, puts them back in their queues, or deletes them.</summary>
internal static class DeadLettersCommand
{
    public static Command Create(CliEnvironment environment, GlobalOptions globals)
    {
        var command = new Command("deadletters", "Show, redrive or purge events that could not be delivered.");
        command.Subcommands.Add(CreateList(environment, globals));
        command.Subcommands.Add(CreateRedrive(environment, globals));
        command.Subcommands.Add(CreatePurge(environment, globals));
        return command;
    }

    /// <summary>Parses a <c>--since</c> value: an ISO-8601 time, or an age such as <c>30m</c>, <c>2h</c>, <c>1d</c>.</summary>
    internal static DateTimeOffset? ParseSince(string text, DateTimeOffset now)
    {
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        if (text.Length >= 2 && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount >= 0)
        {
            TimeSpan? age = text[^1] switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                _ => null,
            };
            return age is null ? null : now - age.Value;
        }

        return null;
    }

    /// <summary>Writes dead letters, one block each.</summary>
    internal static void Write(TextWriter output, string account, string workspace, DeadLettersResponse response)
    {
        if (response.DeadLetters.Count == 0)
        {
            output.WriteLine($"No dead letters in {account}/{workspace}.");
            return;
        }

        foreach (var d in response.DeadLetters)
        {
            output.WriteLine($"{d.Id}  {d.App}/{d.HandlerId}  {d.Key} from {d.Sender}{(string.IsNullOrEmpty(d.Subject) ? "" : $" [{d.Subject}]")}  event {d.EventId}");
            output.WriteLine($"  subscription {d.SubscriptionId}, dead at {Time(d.DeadAt)}: {d.Reason}");
            foreach (var a in d.Attempts)
            {
                var outcome = string.Join(" ", new[] { a.Status?.ToString(CultureInfo.InvariantCulture), a.Error }.Where(s => !string.IsNullOrEmpty(s)));
                output.WriteLine($"  attempt {a.Attempt.ToString(CultureInfo.InvariantCulture)} at {Time(a.At)}: {(outcome.Length == 0 ? "no answer" : outcome)} ({a.DurationMs.ToString("0", CultureInfo.InvariantCulture)} ms)");
            }
        }

        output.WriteLine($"{response.DeadLetters.Count.ToString(CultureInfo.InvariantCulture)} dead {(response.DeadLetters.Count == 1 ? "letter" : "letters")} in {account}/{workspace}. Redrive with 'herald deadletters redrive --id ID' (or --subscription / --since).");
    }

    private static Command CreateList(CliEnvironment environment, GlobalOptions globals)
    {
        var subscription = new Option<string>("--subscription") { Description = "Only this subscription's dead letters: vendor.name/handlerId.", HelpName = "SUBSCRIPTION" };
        var limit = new Option<int?>("--limit", "-n") { Description = "At most this many (default: the broker's)." };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1)
            {
                result.AddError("--limit must be at least 1.");
            }
        });
        var command = new Command("list", "List dead letters: the event, the handler, why it died and every attempt.") { subscription, limit };
        CommandRunner.SetAction(command, environment, async (parse, cancellationToken) =>
        {
            var target = globals.Target(parse, environment);
            var subscriptionId = parse.GetValue(subscription) is { } sub ? SubscriptionName.Id(sub, target.Account, target.Workspace) : null;
            using var broker = new BrokerClient(target);
            var response = await broker.GetDeadLettersAsync(subscriptionId, parse.GetValue(limit), cancellationToken).ConfigureAwait(false);
            Write(environment.Out, broker.Account, broker.Workspace, response);
            return ExitCodes.Ok;
        });
        return command;
    }

    private const int DefaultBatch = 1000;
    private const int MaxBatch = 10_000;

    private static Command CreateRedrive(CliEnvironment environment, GlobalOptions globals) =>
        CreateSelecting(environment, globals, "redrive", "Put dead letters back in their queues to be delivered again, with a fresh attempt count.", "Redrove", "Redriving",
            async (broker, request, cancellationToken) =>
            {
                var answer = await broker.RedriveAsync(request, cancellationToken).ConfigureAwait(false);
                return (answer.Redriven, answer.Remaining);
            });

    private static Command CreatePurge(CliEnvironment environment, GlobalOptions globals) =>
        CreateSelecting(environment, globals, "purge", "Delete dead letters for good (they are not delivered).", "Purged", "Purging",
            async (broker, request, cancellationToken) =>
            {
                var answer = await broker.PurgeAsync(request, cancellationToken).ConfigureAwait(false);
                return (answer.Purged, answer.Remaining);
            });

    /// <summary>
    /// A subcommand that acts on the dead letters its selectors (--id, --subscription, --since) pick. A selection by
    /// subscription or time goes in batches (--batch), with a progress line on stderr after each, so a large
    /// redrive shows how far it is and never holds the store for long.
    /// </summary>
    private static Command CreateSelecting(CliEnvironment environment, GlobalOptions globals, string verb, string description, string done, string doing,
        Func<BrokerClient, RedriveRequest, CancellationToken, Task<(int Count, long Remaining)>> act)
    {
        var batchSize = new Option<int>("--batch")
        {
            Description = $"How many dead letters to {verb} per call to the broker when selecting by subscription or time (1 to {MaxBatch}).",
            DefaultValueFactory = _ => DefaultBatch,
            HelpName = "N",
        };
        var ids = new Option<string[]>("--id") { Description = $"A dead letter to {verb} (repeat for more).", AllowMultipleArgumentsPerToken = true, Arity = ArgumentArity.ZeroOrMore };
        var subscription = new Option<string>("--subscription") { Description = $"{char.ToUpperInvariant(verb[0])}{verb[1..]} this subscription's dead letters: vendor.name/handlerId.", HelpName = "SUBSCRIPTION" };
        var since = new Option<string>("--since")
        {
            Description = $"{char.ToUpperInvariant(verb[0])}{verb[1..]} dead letters since this time: ISO-8601 (2025-01-31T12:00:00Z) or an age (30m, 2h, 1d).",
            HelpName = "TIME",
        };
        var command = new Command(verb, description + " Give at least one selector.") { ids, subscription, since, batchSize };
        CommandRunner.SetAction(command, environment, async (parse, cancellationToken) =>
        {
            var idList = parse.GetValue(ids) is { Length: > 0 } given ? given : null;
            var sub = parse.GetValue(subscription);
            var sinceText = parse.GetValue(since);
            DateTimeOffset? sinceTime = null;
            if (sinceText is not null)
            {
                sinceTime = ParseSince(sinceText, DateTimeOffset.UtcNow)
                    ?? throw new CliException($"--since '{sinceText}' is not a time: give ISO-8601 such as 2025-01-31T12:00:00Z, or an age such as 30m, 2h or 1d.");
            }

            var batch = parse.GetValue(batchSize);
            if (batch is < 1 or > MaxBatch)
            {
                throw new CliException($"--batch must be from 1 to {MaxBatch}; found {batch}.");
            }

            if (idList is null && sub is null && sinceTime is null)
            {
                throw new CliException($"Say which dead letters to {verb}: --id ID (repeatable), --subscription ID and/or --since TIME. See them with 'herald deadletters list'.");
            }

            var target = globals.Target(parse, environment);
            var subscriptionId = sub is null ? null : SubscriptionName.Id(sub, target.Account, target.Workspace);
            using var broker = new BrokerClient(target);
            var request = new RedriveRequest(idList, subscriptionId, sinceTime, idList is null ? batch : null);
            long count = 0;
            long total = 0;
            while (true)
            {
                var (taken, remaining) = await act(broker, request, cancellationToken).ConfigureAwait(false);
                total = total == 0 ? taken + remaining : total;
                count += taken;
                if (request.Limit is null || taken == 0 || remaining == 0 || count >= total)
                {
                    break;
                }

                // The broker takes the letters dead longest first; one redriven here that dies again while this runs
                // goes to the back, so stopping at the first call's total takes each letter once.
                request = request with { Limit = (int)Math.Min(batch, total - count) };
                environment.Error.WriteLine($"{doing}: {count.ToString("N0", CultureInfo.InvariantCulture)} of {total.ToString("N0", CultureInfo.InvariantCulture)} dead letters ({(100 * count / total).ToString(CultureInfo.InvariantCulture)}%)");
            }

            environment.Out.WriteLine($"{done} {count.ToString(CultureInfo.InvariantCulture)} dead {(count == 1 ? "letter" : "letters")} in {broker.Account}/{broker.Workspace}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Time(DateTimeOffset time) => time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
