// The fuzzers' long runs. Each target gets --inputs inputs (default 100,000), bounded by --seconds; the run prints
// inputs run, failures, distinct outcome counts and elapsed time, and exits 1 if any input failed.
//   dotnet run -c Release --project bench/Herald.Fuzz -- --target service --inputs 100000 --seconds 600
using System.CommandLine;
using Herald.Fuzz;
using Herald.Fuzz.Publish;

var target = new Option<string>("--target")
{
    Description = "What to fuzz: service (ServiceManifest.Parse), app (AppManifest.Parse), publish (the publish endpoint), or all.",
    DefaultValueFactory = _ => "all",
};
target.AcceptOnlyFromAmong("service", "app", "publish", "all");
var inputs = new Option<long>("--inputs") { Description = "Inputs per target.", DefaultValueFactory = _ => 100_000 };
var seconds = new Option<int>("--seconds") { Description = "Stop each target after this many seconds, even if not every input was tried.", DefaultValueFactory = _ => 900 };
var seed = new Option<int>("--seed") { Description = "The seed; input i of a run is generated from (seed, i) alone.", DefaultValueFactory = _ => 20_260_101 };
var concurrency = new Option<int>("--concurrency") { Description = "Publish requests in flight at once.", DefaultValueFactory = _ => 16 };
var maxBody = new Option<long>("--max-body") { Description = "The broker's MaxBodyBytes for the publish run (1024 to 67108864).", DefaultValueFactory = _ => 16 * 1024 };
var hangAfter = new Option<int>("--hang-after") { Description = "Seconds after which one input (a parse, or a request) counts as a hang.", DefaultValueFactory = _ => 30 };
var strict = new Option<bool>("--strict") { Description = "Count inputs that hit a known, reported issue (docs/fuzzing.md) as failures too." };
var show = new Option<long?>("--show") { Description = "Print input N of the chosen target (service, app or publish) instead of running." };

var root = new RootCommand("Herald fuzzers: the manifest parsers and the publish endpoint") { target, inputs, seconds, seed, concurrency, maxBody, hangAfter, strict, show };
root.SetAction(async (parse, cancellationToken) =>
{
    var chosen = parse.GetValue(target)!;
    var runSeed = parse.GetValue(seed);
    var bound = TimeSpan.FromSeconds(parse.GetValue(seconds));
    var hang = TimeSpan.FromSeconds(parse.GetValue(hangAfter));
    if (parse.GetValue(show) is { } index)
    {
        Console.WriteLine(chosen switch
        {
            "service" => FuzzReport.Escape(ManifestFuzzer.Input(ManifestTarget.Service, runSeed, index), int.MaxValue),
            "app" => FuzzReport.Escape(ManifestFuzzer.Input(ManifestTarget.App, runSeed, index), int.MaxValue),
            "publish" => PublishGenerator.Generate(new Random(ManifestFuzzer.InputSeed(runSeed, index)), new FuzzTokens("<sender>", "<other-ws>", "<other-account>", "<rotated>", "<admin>"), parse.GetValue(maxBody)).Description,
            _ => "--show needs --target service, app or publish",
        });
        return 0;
    }

    var failed = false;
    foreach (var manifest in new[] { ("service", ManifestTarget.Service), ("app", ManifestTarget.App) })
    {
        if (chosen is "all" || chosen == manifest.Item1)
        {
            var report = ManifestFuzzer.Run(new ManifestFuzzOptions(manifest.Item2, parse.GetValue(inputs), bound, runSeed, hang, parse.GetValue(strict)), cancellationToken);
            report.Print(Console.Out);
            Console.WriteLine();
            failed |= report.FailureCount > 0;
        }
    }

    if (chosen is "all" or "publish")
    {
        var options = new PublishFuzzOptions(parse.GetValue(inputs), bound, runSeed, parse.GetValue(concurrency), parse.GetValue(maxBody), hang, parse.GetValue(strict));
        var report = await PublishFuzzer.RunAsync(options, cancellationToken);
        report.Print(Console.Out);
        failed |= report.FailureCount > 0;
    }

    return failed ? 1 : 0;
});
return await root.Parse(args).InvokeAsync();
