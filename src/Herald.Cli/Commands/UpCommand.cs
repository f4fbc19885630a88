using System.CommandLine;
using System.Globalization;
using Herald.Broker;
using Herald.Cli.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Cli.Commands;

/// <summary><c>herald up</c>: runs the broker in this process until Ctrl+C, on the SQLite store or a NATS cluster.</summary>
internal static class UpCommand
{
    public static Command Create(CliEnvironment environment)
    {
        var port = new Option<int>("--port", "-p")
        {
            Description = "The port to listen on (0 picks a free one).",
            DefaultValueFactory = _ => 8080,
        };
        port.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 0 or > 65535)
            {
                result.AddError("--port must be from 0 to 65535.");
            }
        });
        var host = new Option<string>("--host")
        {
            Description = "The address to listen on. Keep the loopback address unless other machines must reach the broker.",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        var data = new Option<string>("--data")
        {
            Description = "The data folder: the SQLite database and admin.token (default: $HERALD_HOME/data, i.e. ~/.herald/data).",
            HelpName = "DIR",
        };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log every request and delivery, not only warnings." };
        var store = new Option<string>("--store") { Description = BrokerStore.OptionHelp, HelpName = "sqlite|nats://HOST:PORT[,...]" };
        var replicas = new Option<int?>("--replicas") { Description = "With a NATS store: how many servers keep each stream (default: one per listed server, at most 3)." };
        var config = new Option<string>("--config")
        {
            Description = "A JSON file whose \"Herald\" section sets the broker's options (docs/operations.md, \"Configuration\"); Herald__... environment variables and these flags take precedence.",
            HelpName = "FILE",
        };
        var command = new Command("up", "Run the Herald broker here until Ctrl+C, with its data in a local SQLite database or on a NATS JetStream cluster.")
        {
            port, host, data, verbose, store, replicas, config,
        };
        CommandRunner.SetAction(command, environment, (parse, cancellationToken) =>
        {
            // --host and --port replace the configured URL only when given: their defaults are the configuration's default.
            var addressGiven = parse.GetResult(port) is { Implicit: false } || parse.GetResult(host) is { Implicit: false };
            var flags = new BrokerConfiguration.Flags(
                addressGiven ? UrlFor(parse.GetValue(host)!, parse.GetValue(port)) : null,
                parse.GetValue(data),
                parse.GetValue(store),
                parse.GetValue(replicas));
            return RunAsync(environment, parse.GetValue(config), flags, parse.GetValue(verbose), cancellationToken);
        });
        return command;
    }

    /// <summary>Builds the URL for <paramref name="host"/> and <paramref name="port"/> (brackets for IPv6).</summary>
    internal static string UrlFor(string host, int port) =>
        $"http://{(host.Contains(':', StringComparison.Ordinal) && !host.StartsWith('[') ? $"[{host}]" : host)}:{port.ToString(CultureInfo.InvariantCulture)}";

    private static async Task<int> RunAsync(CliEnvironment environment, string? configFile, BrokerConfiguration.Flags flags, bool verbose, CancellationToken cancellationToken)
    {
        var (options, store) = BrokerConfiguration.Load(environment, configFile, flags);
        var otlp = OtlpExport.FromEnvironment(environment);
        var dataDirectory = options.DataDirectory;
        var context = CliContext.Load(environment.HomeDirectory);
        await using var broker = await InProcessBroker.StartAsync(options, verbose ? LogLevel.Information : LogLevel.Warning, cancellationToken, store, otlp).ConfigureAwait(false);
        var url = broker.Url.GetLeftPart(UriPartial.Authority);
        (context with { Broker = url, DataDirectory = dataDirectory }).Save(environment.HomeDirectory);

        environment.Out.WriteLine($"Herald broker listening on {url}");
        environment.Out.WriteLine($"Data in {dataDirectory} (admin token: {broker.AdminTokenPath})");
        environment.Out.WriteLine($"Dashboard: {url}{HeraldBroker.DashboardPath} (sign in with the admin token)");
        if (store.NatsUrls is not null)
        {
            environment.Out.WriteLine($"Events on {store.Describe(dataDirectory)}; the data folder keeps the broker's keys.");
        }
        if (otlp is not null)
        {
            environment.Out.WriteLine($"Traces and metrics to {otlp.Endpoint} over OTLP ({(otlp.Protocol == OpenTelemetry.Exporter.OtlpExportProtocol.Grpc ? "grpc" : "http/protobuf")}).");
        }

        environment.Out.WriteLine($"Working in {context.Account}/{context.Workspace}; link an app with 'herald link' in its folder. Press Ctrl+C to stop.");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        environment.Out.WriteLine("Stopping the broker...");
        await broker.StopAsync().ConfigureAwait(false);
        environment.Out.WriteLine("Stopped.");
        return ExitCodes.Ok;
    }
}
