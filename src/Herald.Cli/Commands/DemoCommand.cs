using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Herald.Broker.Admin;
using Herald.Cli.Apps;
using Herald.Cli.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Cli.Commands;

/// <summary>
/// <c>herald demo</c>: the tutorial in one command. A broker in this process on a fresh temporary folder, a fresh
/// workspace, both samples built, linked and running, the healthcheck called, then the flow shown live: each fired
/// event, each delivery outcome and each line the apps print. Everything is stopped and removed at the end.
/// On a NATS cluster the demo keeps apart from the brokers that run there: its streams have the prefix
/// <see cref="NatsPrefix"/>, and its keys live in <c>$HERALD_HOME/demo</c>, the same on every run, as the brokers
/// sharing a store must have the same keys.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The prefix of the demo's streams and buckets on a NATS cluster.</summary>
    public const string NatsPrefix = "herald-demo";

    /// <summary>The sample that fires events.</summary>
    public const string SenderSample = "events-example";

    /// <summary>The sample that listens.</summary>
    public const string ListenerSample = "live-users";

    /// <summary>The healthcheck route of events-example, below <c>/{account}/{workspace}</c>.</summary>
    public const string HealthcheckPath = "/_v/app/events-example/hcheck";

    /// <summary>The variable events-example reads its firing interval from.</summary>
    public const string IntervalVariable = "EVENTS_EXAMPLE_INTERVAL_SECONDS";

    /// <summary>The time allowed beyond <c>interval × events</c> before <c>--events</c> gives up.</summary>
    public static readonly TimeSpan DeadlineSlack = TimeSpan.FromSeconds(120);

    private static readonly Dictionary<string, string> QuietFramework = new() { ["Microsoft"] = "Warning" };

    public static Command Create(CliEnvironment environment)
    {
        var interval = new Option<int>("--interval")
        {
            Description = "Seconds between the events events-example fires.",
            DefaultValueFactory = _ => 3,
        };
        interval.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 3600)
            {
                result.AddError("--interval must be from 1 to 3600 seconds.");
            }
        });
        var events = new Option<int?>("--events", "-n") { Description = "Stop by itself once this many events were handled (exit 0), or fail after interval × N + 120 s." };
        events.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1)
            {
                result.AddError("--events must be at least 1.");
            }
        });
        var samples = new Option<string>("--samples") { Description = "The samples folder (default: samples/ found above the current folder or the tool).", HelpName = "DIR" };
        var store = new Option<string>("--store") { Description = BrokerStore.OptionHelp, HelpName = "sqlite|nats://HOST:PORT[,...]" };
        var replicas = new Option<int?>("--replicas") { Description = "With a NATS store: how many servers keep each stream (default: one per listed server, at most 3)." };
        var command = new Command("demo", "Run the events tutorial end to end: a broker, both samples linked, events flowing live. Ctrl+C to stop.")
        {
            interval, events, samples, store, replicas,
        };
        CommandRunner.SetAction(command, environment, (parse, cancellationToken) =>
            RunAsync(environment, parse.GetValue(interval), parse.GetValue(events), parse.GetValue(samples), BrokerStore.Parse(parse.GetValue(store), parse.GetValue(replicas)), cancellationToken));
        return command;
    }

    /// <summary>
    /// Finds the folder that holds both samples: <paramref name="explicitFolder"/> when given, else <c>samples/</c> in
    /// the current folder or one above it, else above the CLI's own folder.
    /// </summary>
    internal static string FindSamples(CliEnvironment environment, string? explicitFolder)
    {
        if (explicitFolder is not null)
        {
            var folder = environment.FullPath(explicitFolder);
            return HasSamples(folder) ? folder
                : throw new CliException($"{folder} does not hold the samples ({SenderSample}/ and {ListenerSample}/, each with a manifest.json).");
        }

        foreach (var start in new[] { environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "samples");
                if (HasSamples(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new CliException($"Cannot find the samples ({SenderSample} and {ListenerSample}): run the demo from the Herald repository, or pass --samples DIR.");
    }

    /// <summary>One line for one activity item, or <c>null</c> for kinds the demo does not show.</summary>
    internal static string? Format(ActivityInfo a)
    {
        var id = a.EventId.Length > 8 ? "…" + a.EventId[^8..] : a.EventId;
        var target = $"{a.App}/{a.HandlerId}";
        var outcome = string.Join(" ", new[] { a.Status?.ToString(CultureInfo.InvariantCulture), a.Error }.Where(s => !string.IsNullOrEmpty(s)));
        var attempt = a.Attempt?.ToString(CultureInfo.InvariantCulture) ?? "?";
        return a.Kind switch
        {
            "published" => $"fired      {a.Key} from {a.Sender} (event {id})",
            "delivered" => $"delivered  {a.Key} to {target}, attempt {attempt}{(outcome.Length > 0 ? $" ({outcome})" : "")} (event {id})",
            "retrying" => $"retrying   {a.Key} to {target}: attempt {attempt} failed{(outcome.Length > 0 ? $" ({outcome})" : "")} (event {id})",
            "dead" => $"dead       {a.Key} to {target} after attempt {attempt}{(outcome.Length > 0 ? $" ({outcome})" : "")} (event {id})",
            _ => null,
        };
    }

    private static bool HasSamples(string folder) =>
        File.Exists(Path.Combine(folder, SenderSample, "manifest.json")) && File.Exists(Path.Combine(folder, ListenerSample, "manifest.json"));

    private static async Task<int> RunAsync(CliEnvironment environment, int interval, int? events, string? samplesOption, BrokerStore store, CancellationToken cancellationToken)
    {
        var samples = FindSamples(environment, samplesOption);
        var output = environment.Out;
        var temporary = Path.Combine(Path.GetTempPath(), "herald-demo-" + RandomNumberGenerator.GetHexString(8, lowercase: true));
        var workspace = "demo-" + RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyz0123456789", 4);
        InProcessBroker? broker = null;
        BrokerClient? client = null;
        var sessions = new List<LinkSession>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task? activity = null;
        try
        {
            output.WriteLine("Starting the Herald broker...");
            var (dataDirectory, demoStore) = store.NatsUrls is null
                ? (Path.Combine(temporary, "data"), store)
                : (Path.Combine(environment.HomeDirectory, "demo"), store with { ConfigureNats = options => options.Prefix = NatsPrefix });
            broker = await InProcessBroker.StartAsync($"http://127.0.0.1:{FreePort.Next().ToString(CultureInfo.InvariantCulture)}", dataDirectory, LogLevel.Error, cancellationToken, demoStore).ConfigureAwait(false);
            var token = await broker.ReadAdminTokenAsync(cancellationToken).ConfigureAwait(false);
            client = new BrokerClient(new BrokerTarget(broker.Url, token, broker.AdminTokenPath, CliContext.DefaultAccount, workspace));
            output.WriteLine($"Broker on {broker.Url.GetLeftPart(UriPartial.Authority)}, data in {temporary}; workspace {CliContext.DefaultAccount}/{workspace}.");
            if (store.NatsUrls is not null)
            {
                output.WriteLine($"Events on {store.Describe(temporary)}.");
            }

            void Print(string appName, string line, bool isError) => output.WriteLine($"{Now()}  [{appName}] {line}");
            var listener = new LinkSession(environment, client, Path.Combine(samples, ListenerSample), new LinkSessionOptions { OnAppLine = Print, FrameworkLogLevels = QuietFramework });
            sessions.Add(listener);
            await listener.StartAsync(cancellationToken).ConfigureAwait(false);
            var sender = new LinkSession(environment, client, Path.Combine(samples, SenderSample), new LinkSessionOptions
            {
                OnAppLine = Print,
                FrameworkLogLevels = QuietFramework,
                Environment = new Dictionary<string, string?> { [IntervalVariable] = interval.ToString(CultureInfo.InvariantCulture) },
            });
            sessions.Add(sender);
            await sender.StartAsync(cancellationToken).ConfigureAwait(false);

            var handled = 0;
            var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            activity = Task.Run(
                async () =>
                {
                    await foreach (var item in client.ActivityAsync(stop.Token, () => opened.TrySetResult()).ConfigureAwait(false))
                    {
                        if (Format(item) is { } line)
                        {
                            output.WriteLine($"{Now()}  {line}");
                        }

                        if (item.Kind == "delivered" && Interlocked.Increment(ref handled) >= events)
                        {
                            enough.TrySetResult();
                        }
                    }
                },
                CancellationToken.None);
            await Task.WhenAny(opened.Task, activity).ConfigureAwait(false);
            if (activity.IsFaulted)
            {
                await activity.ConfigureAwait(false);
            }

            // The healthcheck gives events-example its context; only then does it fire (as in the tutorial).
            var (status, body) = await client.GetThroughRouterAsync(HealthcheckPath, cancellationToken).ConfigureAwait(false);
            var healthcheckUrl = $"{broker.Url.GetLeftPart(UriPartial.Authority)}/{CliContext.DefaultAccount}/{workspace}{HealthcheckPath}";
            if (status is < 200 or > 299)
            {
                throw new CliException($"GET {healthcheckUrl} answered {status.ToString(CultureInfo.InvariantCulture)}: {body}");
            }

            output.WriteLine($"GET {healthcheckUrl}: {body.Trim()}");
            output.WriteLine($"{SenderSample} fires send-event every {interval.ToString(CultureInfo.InvariantCulture)} s; {ListenerSample} handles it."
                + (events is null ? " Press Ctrl+C to stop." : $" Stopping after {events.Value.ToString(CultureInfo.InvariantCulture)} handled events."));

            if (events is null)
            {
                await Task.WhenAny(activity, Task.Delay(Timeout.Infinite, cancellationToken)).ConfigureAwait(false);
                await activity.ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            var deadline = TimeSpan.FromSeconds(interval * (double)events.Value) + DeadlineSlack;
            var clock = Stopwatch.StartNew();
            var finished = await Task.WhenAny(enough.Task, activity, Task.Delay(deadline, cancellationToken)).ConfigureAwait(false);
            if (finished == enough.Task)
            {
                output.WriteLine($"{events.Value.ToString(CultureInfo.InvariantCulture)} events handled in {clock.Elapsed.TotalSeconds:0} s. Stopping.");
                return ExitCodes.Ok;
            }

            if (finished == activity)
            {
                await activity.ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            throw new CliException($"Only {Volatile.Read(ref handled).ToString(CultureInfo.InvariantCulture)} of {events.Value.ToString(CultureInfo.InvariantCulture)} events were handled within {deadline.TotalSeconds:0} s; see the output above.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return ExitCodes.Ok;
        }
        finally
        {
            output.WriteLine("Stopping the demo...");
            await stop.CancelAsync().ConfigureAwait(false);
            if (activity is not null)
            {
                try
                {
                    await activity.ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or CliException)
                {
                }
            }

            foreach (var session in Enumerable.Reverse(sessions))
            {
                await session.StopAsync().ConfigureAwait(false);
            }

            client?.Dispose();
            if (broker is not null)
            {
                await broker.DisposeAsync().ConfigureAwait(false);
            }

            DeleteFolder(environment, temporary);
        }
    }

    private static string Now() => DateTimeOffset.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    private static void DeleteFolder(CliEnvironment environment, string folder)
    {
        for (var attempt = 1; Directory.Exists(folder); attempt++)
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (attempt == 5)
                {
                    environment.Error.WriteLine($"Could not remove {folder}: {e.Message}");
                    return;
                }

                Thread.Sleep(200 * attempt);
            }
        }
    }
}
