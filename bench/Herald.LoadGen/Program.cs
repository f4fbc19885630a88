// The end-to-end load generator: publishes N events over HTTP to a target with M subscribers (all in this process)
// and prints events/s and publish→handler latency percentiles. The target is Herald (default: its own broker with a
// SQLite store in a temp folder, subscriber apps built with Herald's SDK; --broker for a running one), the no-store
// relay (RelayTarget.cs, the ceiling) or MassTransit over RabbitMQ (MassTransitTarget.cs, the peer); one driver
// (LoadDriver.cs) publishes to all three, as fast as it goes or at --rate. Every run is bounded: it stops after N
// events or --timeout, whichever comes first.
// The 'soak' subcommand (SoakCommand.cs) runs a fixed-rate soak with failing handlers against 'herald up' in its own process.
using System.CommandLine;
using Herald.LoadGen;

var events = new Option<int>("--events") { Description = "Events to publish.", DefaultValueFactory = _ => 20_000 };
var subscribers = new Option<int>("--subscribers") { Description = "Subscribers, each receiving every event.", DefaultValueFactory = _ => 3 };
var concurrency = new Option<int>("--concurrency") { Description = "Publishes in flight at once.", DefaultValueFactory = _ => 64 };
var deliveryConcurrency = new Option<int>("--delivery-concurrency")
{
    Description = "Deliveries in flight per subscriber: Herald's subscription concurrency, the relay's forwards in flight, MassTransit's PrefetchCount and ConcurrentMessageLimit.",
    DefaultValueFactory = _ => 32,
};
var target = new Option<string>("--target") { Description = "What to drive: herald, relay (no store, the ceiling) or masstransit (MassTransit over RabbitMQ).", DefaultValueFactory = _ => LoadRun.TargetHerald };
target.AcceptOnlyFromAmong(LoadRun.TargetHerald, LoadRun.TargetRelay, LoadRun.TargetMassTransit);
var rate = new Option<double?>("--rate") { Description = "Publish at this fixed rate, events/s (still at most --concurrency in flight); default: as fast as the publishers go." };
var warmup = new Option<int>("--warmup") { Description = "Events published (as fast as they go) and delivered first, not counted: steady state instead of start-up.", DefaultValueFactory = _ => 0 };
var queue = new Option<string>("--queue") { Description = "masstransit: the receive endpoints' queue type.", DefaultValueFactory = _ => "classic" };
queue.AcceptOnlyFromAmong("classic", "quorum");
var amqp = new Option<string>("--amqp") { Description = "masstransit: the RabbitMQ to use, amqp://[user:password@]host:port/[vhost].", DefaultValueFactory = _ => MassTransitTarget.DefaultAmqp };
amqp.Validators.Add(result =>
{
    if (!Uri.TryCreate(result.GetValueOrDefault<string>(), UriKind.Absolute, out var uri) || uri.Scheme != "amqp")
    {
        result.AddError("--amqp must be an amqp:// URL, e.g. amqp://guest:guest@127.0.0.1:5672/.");
    }
});
var broker = new Option<string?>("--broker") { Description = "herald: a running broker's URL; default: start one in this process." };
var adminToken = new Option<string?>("--admin-token") { Description = "herald: the running broker's admin token (default: read from --data/admin.token)." };
var data = new Option<string?>("--data") { Description = "herald: the running broker's data folder, to read admin.token." };
var store = new Option<string>("--store") { Description = "herald: the own broker's store, sqlite or a NATS JetStream cluster (nats://HOST:PORT[,...]).", DefaultValueFactory = _ => "sqlite" };
var replicas = new Option<int>("--replicas") { Description = "herald with --store nats://...: how many servers keep each stream.", DefaultValueFactory = _ => 1 };
var timeout = new Option<int>("--timeout") { Description = "Give up after this many seconds.", DefaultValueFactory = _ => 600 };
var root = new RootCommand("Herald end-to-end load generator") { events, subscribers, concurrency, deliveryConcurrency, target, rate, warmup, queue, amqp, broker, adminToken, data, store, replicas, timeout };
root.Subcommands.Add(SoakCommand.Create());
root.SetAction(async (parse, cancellationToken) =>
{
    var options = new LoadOptions(
        parse.GetValue(events), parse.GetValue(subscribers), parse.GetValue(concurrency), parse.GetValue(deliveryConcurrency),
        parse.GetValue(broker), parse.GetValue(adminToken), parse.GetValue(data), TimeSpan.FromSeconds(parse.GetValue(timeout)),
        parse.GetValue(target)!, parse.GetValue(rate), parse.GetValue(queue)!, new Uri(parse.GetValue(amqp)!), parse.GetValue(warmup), parse.GetValue(store)!, parse.GetValue(replicas));
    return await LoadRun.RunAsync(options, Console.Out, cancellationToken);
});
return await root.Parse(args).InvokeAsync();
