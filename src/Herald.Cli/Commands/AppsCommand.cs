using System.CommandLine;
using System.Globalization;
using Herald.Broker.Admin;

namespace Herald.Cli.Commands;

/// <summary><c>herald apps</c>: the linked apps and their subscriptions with delivery counts.</summary>
internal static class AppsCommand
{
    public static Command Create(CliEnvironment environment, GlobalOptions globals)
    {
        var command = new Command("apps", "List the apps linked in the current workspace, their subscriptions and delivery counts.");
        CommandRunner.SetAction(command, environment, async (parse, cancellationToken) =>
        {
            using var broker = new BrokerClient(globals.Target(parse, environment));
            var apps = await broker.GetAppsAsync(cancellationToken).ConfigureAwait(false);
            Write(environment.Out, broker.Account, broker.Workspace, apps);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Writes the apps as a table, one row per subscription.</summary>
    internal static void Write(TextWriter output, string account, string workspace, AppsResponse apps)
    {
        if (apps.Apps.Count == 0)
        {
            output.WriteLine($"No apps linked in {account}/{workspace}. Link one with 'herald link' in its folder.");
            return;
        }

        output.WriteLine($"Apps in {account}/{workspace}:");
        var table = new TextTable("APP", "ENDPOINT", "HANDLER", "SENDER", "KEYS", "PENDING>", "IN FLIGHT>", "DELIVERED>", "DEAD>");
        foreach (var app in apps.Apps.OrderBy(a => a.App, StringComparer.Ordinal))
        {
            if (app.Subscriptions.Count == 0)
            {
                table.Add(app.App, app.Endpoint, "-", "", "", "", "", "", "");
            }

            foreach (var s in app.Subscriptions.OrderBy(s => s.HandlerId, StringComparer.Ordinal))
            {
                table.Add(app.App, app.Endpoint, s.HandlerId, s.Sender ?? "(any)", string.Join(",", s.Keys), Count(s.Pending), Count(s.InFlight), Count(s.Delivered), Count(s.Dead));
            }
        }

        table.WriteTo(output);
        foreach (var app in apps.Apps.Where(a => a.Routes.Count > 0).OrderBy(a => a.App, StringComparer.Ordinal))
        {
            foreach (var route in app.Routes)
            {
                output.WriteLine($"route {app.Sender}/{route.Id}: {route.Url}");
            }
        }
    }

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);
}
