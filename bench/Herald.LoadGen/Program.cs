// The end-to-end load generator: publishes N events over HTTP to a broker with M subscriber apps (built with
// Herald's SDK, in this process) and prints events/s and publish→handler latency percentiles. With no --broker it
// starts its own broker (SQLite store in a temp folder) in this process. Every run is bounded: it stops after N events or --timeout, whichever comes first.
// The 'soak' subcommand (SoakCommand.cs) runs a fixed-rate soak with failing handlers against 'herald up' in its own process.
using System.CommandLine;
using Herald.LoadGen;

var events = new Option<int>("--events") { Description = "Events to publish.", DefaultValueFactory = _ => 20_000 };
var subscribers = new Option<int>("--subscribers") { Description = "Subscriber apps, each receiving every event.", DefaultValueFactory = _ => 3 };
var concurrency = new Option<int>("--concurrency") { Description = "Publishes in flight at once.", DefaultValueFactory = _ => 64 };
var deliveryConcurrency = new Option<int>("--delivery-concurrency") { Description = "Each subscription's delivery concurrency.", DefaultValueFactory = _ => 32 };
var broker = new Option<string?>("--broker") { Description = "A running broker's URL; default: start one in this process." };
var adminToken = new Option<string?>("--admin-token") { Description = "The running broker's admin token (default: read from --data/admin.token)." };
var data = new Option<string?>("--data") { Description = "The running broker's data folder, to read admin.token." };
var timeout = new Option<int>("--timeout") { Description = "Give up after this many seconds.", DefaultValueFactory = _ => 600 };
var root = new RootCommand("Herald end-to-end load generator") { events, subscribers, concurrency, deliveryConcurrency, broker, adminToken, data, timeout };
root.Subcommands.Add(SoakCommand.Create());
root.SetAction(async (parse, cancellationToken) =>
{
    var options = new LoadOptions(
        parse.GetValue(events), parse.GetValue(subscribers), parse.GetValue(concurrency), parse.GetValue(deliveryConcurrency),
        parse.GetValue(broker), parse.GetValue(adminToken), parse.GetValue(data), TimeSpan.FromSeconds(parse.GetValue(timeout)));
    return await LoadRun.RunAsync(options, Console.Out, cancellationToken);
});
return await root.Parse(args).InvokeAsync();
