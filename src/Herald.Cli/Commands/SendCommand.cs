using System.CommandLine;
using System.Text.Json;

namespace Herald.Cli.Commands;

/// <summary><c>herald send KEY [--data JSON] [--sender vendor.name] [--subject S]</c>: publishes an event.</summary>
internal static class SendCommand
{
    /// <summary>The sender of events the CLI publishes when none is named.</summary>
    public const string DefaultSender = "herald.cli";

    public static Command Create(CliEnvironment environment, GlobalOptions globals)
    {
        var key = new Argument<string>("key") { Description = "The event key, e.g. send-event." };
        var data = new Option<string>("--data", "-d")
        {
            Description = "The body: a JSON object or array, or @FILE to read it from a file (default: {}).",
            HelpName = "JSON",
        };
        var sender = new Option<string>("--sender", "-s")
        {
            Description = $"Publish as this app, vendor.name (default: {DefaultSender}).",
            HelpName = "vendor.name",
        };
        var subject = new Option<string>("--subject") { Description = "The event's subject (resource)." };
        var command = new Command("send", "Publish an event to the current workspace, as if an app had fired it.") { key, data, sender, subject };
        CommandRunner.SetAction(command, environment, async (parse, cancellationToken) =>
        {
            var (eventKey, eventSender, body) = Validate(environment, parse.GetValue(key)!, parse.GetValue(data), parse.GetValue(sender));
            using var broker = new BrokerClient(globals.Target(parse, environment));
            var published = await broker.PublishAsync(eventKey, eventSender, parse.GetValue(subject), body, cancellationToken).ConfigureAwait(false);
            environment.Out.WriteLine($"Sent {eventKey} from {eventSender} in {broker.Account}/{broker.Workspace}: event {published.Id}, {published.Deliveries} {(published.Deliveries == 1 ? "delivery" : "deliveries")}.");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Checks the key, sender and body before anything is sent; returns the body as compact JSON.</summary>
    internal static (string Key, string Sender, string Body) Validate(CliEnvironment environment, string key, string? data, string? sender)
    {
        if (!Names.IsKey(key))
        {
            throw new CliException($"'{key}' is not a valid event key: use {Names.KeyRule}.");
        }

        sender ??= DefaultSender;
        if (!Names.IsDeclaredSender(sender))
        {
            throw new CliException($"'{sender}' is not a valid sender: use {Names.DeclaredSenderRule}.");
        }

        var text = data ?? "{}";
        var origin = "--data";
        if (text.StartsWith('@'))
        {
            var file = environment.FullPath(text[1..]);
            if (!File.Exists(file))
            {
                throw new CliException($"--data {text}: {file} does not exist.");
            }

            text = File.ReadAllText(file);
            origin = file;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
            {
                throw new CliException($"{origin} must be a JSON object or array (an event body); found a {document.RootElement.ValueKind.ToString().ToLowerInvariant()}.");
            }

            return (key, sender, document.RootElement.GetRawText());
        }
        catch (JsonException e)
        {
            throw new CliException($"{origin} is not valid JSON: {e.Message} Example: --data '{{\"userId\": 42}}'.", ExitCodes.UserError, e);
        }
    }
}
