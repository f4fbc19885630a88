using System.CommandLine;

namespace Herald.LoadGen;

/// <summary>
/// <c>soak</c>: a fixed publish rate for a fixed time against a broker in its own process (<c>herald up</c>, started
/// here unless --broker is given), with a fraction of handler calls failing; reports events lost, duplicates, dead
/// letters, latencies and the broker's memory. Exit code 1 if any accepted event was lost or the drain did not finish.
/// </summary>
internal static class SoakCommand
{
    public static Command Create()
    {
        var rate = new Option<double>("--rate") { Description = "Target publish rate, events/s.", DefaultValueFactory = _ => 200 };
        var duration = new Option<int>("--duration") { Description = "Seconds of publishing.", DefaultValueFactory = _ => 600 };
        var subscribers = new Option<int>("--subscribers") { Description = "Subscriber apps, each receiving every event.", DefaultValueFactory = _ => 3 };
        var failRate = new Option<double>("--fail-rate") { Description = "Fraction of handler calls that answer 500 (deterministic per seed, subscriber, event and attempt).", DefaultValueFactory = _ => 0.1 };
        var seed = new Option<int>("--seed") { Description = "Seed of the injected failures.", DefaultValueFactory = _ => 1 };
        var concurrency = new Option<int>("--concurrency") { Description = "At most this many publishes in flight (the rate is kept below that).", DefaultValueFactory = _ => 256 };
        var deliveryConcurrency = new Option<int>("--delivery-concurrency") { Description = "Each subscription's delivery concurrency.", DefaultValueFactory = _ => 32 };
        var retries = new Option<int>("--retries") { Description = "Each subscription's delivery retries.", DefaultValueFactory = _ => 10 };
        var initialBackoff = new Option<int>("--initial-backoff") { Description = "Each subscription's initialBackoffDelay, ms.", DefaultValueFactory = _ => 200 };
        var maxBackoff = new Option<int>("--max-backoff") { Description = "Each subscription's maxBackoffDelay, ms.", DefaultValueFactory = _ => 5000 };
        var drain = new Option<int>("--drain") { Description = "After publishing, wait at most this many seconds for every delivery to finish.", DefaultValueFactory = _ => 300 };
        var warmup = new Option<int>("--warmup") { Description = "Seconds of load before the 'start' memory sample.", DefaultValueFactory = _ => 10 };
        var sample = new Option<int>("--sample") { Description = "Seconds between memory samples.", DefaultValueFactory = _ => 30 };
        var heraldDll = new Option<string?>("--herald-dll") { Description = "The CLI to run 'herald up' with (default: src/Herald.Cli/bin/Release/net10.0/Herald.Cli.dll)." };
        var broker = new Option<string?>("--broker") { Description = "A running broker's URL instead of starting one." };
        var adminToken = new Option<string?>("--admin-token") { Description = "The running broker's admin token (default: read from --data/admin.token)." };
        var data = new Option<string?>("--data") { Description = "The running broker's data folder, to read admin.token." };
        var brokerPid = new Option<int?>("--broker-pid") { Description = "The running broker's process id, to sample its memory." };
        var command = new Command("soak", "Fixed-rate soak run with failing handlers against a broker in its own process; reports lost events (must be 0), duplicates and the broker's memory.")
        {
            rate, duration, subscribers, failRate, seed, concurrency, deliveryConcurrency, retries, initialBackoff, maxBackoff, drain, warmup, sample, heraldDll, broker, adminToken, data, brokerPid,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new SoakOptions(
                parse.GetValue(rate), parse.GetValue(duration), parse.GetValue(subscribers), parse.GetValue(failRate), parse.GetValue(seed),
                parse.GetValue(concurrency), parse.GetValue(deliveryConcurrency), parse.GetValue(retries), parse.GetValue(initialBackoff),
                parse.GetValue(maxBackoff), parse.GetValue(drain), parse.GetValue(warmup), parse.GetValue(sample), parse.GetValue(heraldDll),
                parse.GetValue(broker), parse.GetValue(adminToken), parse.GetValue(data), parse.GetValue(brokerPid));
            return await SoakRun.RunAsync(options, Console.Out, cancellationToken);
        });
        return command;
    }
}
