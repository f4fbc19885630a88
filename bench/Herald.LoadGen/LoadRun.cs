using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Herald.Broker.Admin;
using Herald.Sdk;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.LoadGen;

/// <summary>What a load run does; see <c>Program.cs</c> for each option's meaning and default.</summary>
/// <param name="Target"><c>herald</c>, <c>relay</c> or <c>masstransit</c>.</param>
/// <param name="Rate">Events/s for a fixed-rate run; null publishes as fast as the publishers go.</param>
/// <param name="Queue">The masstransit target's queue type: <c>classic</c> or <c>quorum</c>.</param>
/// <param name="Amqp">The masstransit target's RabbitMQ.</param>
/// <param name="Warmup">Events published and delivered before the measured ones, not counted.</param>
/// <param name="Store">herald: the own broker's store, <c>sqlite</c> or NATS URLs (<c>nats://HOST:PORT[,...]</c>).</param>
/// <param name="Replicas">herald with a NATS store: how many servers keep each stream.</param>
internal sealed record LoadOptions(
    int Events,
    int Subscribers,
    int Concurrency,
    int DeliveryConcurrency,
    string? Broker,
    string? AdminToken,
    string? DataDirectory,
    TimeSpan Timeout,
    string Target = LoadRun.TargetHerald,
    double? Rate = null,
    string Queue = "classic",
    Uri? Amqp = null,
    int Warmup = 0,
    string Store = "sqlite",
    int Replicas = 1);

/// <summary>
/// The default command: starts the chosen target (Herald, the no-store relay, or MassTransit over RabbitMQ) with its
/// subscribers in this process, drives it with <see cref="LoadDriver"/> and stops it. Bounded by --timeout.
/// </summary>
internal static class LoadRun
{
    internal const string Account = "load";
    internal const string TargetHerald = "herald";
    internal const string TargetRelay = "relay";
    internal const string TargetMassTransit = "masstransit";

    public static async Task<int> RunAsync(LoadOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        if (options.Events <= 0 || options.Subscribers <= 0 || options.Concurrency <= 0 || options.DeliveryConcurrency <= 0 || options.Rate is <= 0 || options.Warmup < 0)
        {
            await output.WriteLineAsync("--events, --subscribers, --concurrency, --delivery-concurrency and --rate must be positive, --warmup 0 or more.");
            return 1;
        }

        if (options.Target != TargetHerald && (options.Broker ?? options.AdminToken ?? options.DataDirectory) is not null)
        {
            await output.WriteLineAsync($"--broker, --admin-token and --data are for --target {TargetHerald} only.");
            return 1;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Timeout);
        var ct = deadline.Token;
        // Sized for the larger of the warm-up and the measured events (the table is emptied in between), every subscriber's.
        var recorder = new DeliveryRecorder(Math.Max(options.Events, options.Warmup) * options.Subscribers);
        await using ILoadTarget target = options.Target switch
        {
            TargetRelay => new RelayTarget(options.DeliveryConcurrency),
            TargetMassTransit => new MassTransitTarget(options.Amqp ?? new Uri(MassTransitTarget.DefaultAmqp), options.Queue == "quorum", options.DeliveryConcurrency),
            _ => new HeraldTarget(options.Broker, options.AdminToken, options.DataDirectory, options.DeliveryConcurrency, options.Store, options.Replicas),
        };
        try
        {
            var publishTarget = await target.StartAsync(options.Subscribers, recorder, ct);
            return await LoadDriver.RunAsync(publishTarget, recorder, new DriveOptions(options.Events, options.Subscribers, options.Concurrency, options.Rate, options.Warmup), output, ct);
        }
        catch (LoadSetupException e)
        {
            await output.WriteLineAsync(e.Message);
            return 1;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await output.WriteLineAsync($"Stopped after {options.Timeout.TotalSeconds:0} s with {recorder.Count} deliveries received.");
            return 2;
        }
        catch (OperationCanceledException)
        {
            await output.WriteLineAsync($"Interrupted with {recorder.Count} deliveries received.");
            return 130;
        }
    }

    internal static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>
    /// A subscriber app built with Herald's SDK, in this process: an app folder with its manifest.json and
    /// dotnet/service.json, linked through the admin API, then started with the credentials the link returned.
    /// </summary>
    internal static async Task<WebApplication> StartSubscriberAsync(HttpClient http, string adminToken, string brokerUrl, string workspace, string name, object delivery, Func<EventContext, Task> handler, string tempApps, CancellationToken ct)
    {
        var root = Path.Combine(tempApps, name);
        Directory.CreateDirectory(Path.Combine(root, "dotnet"));
        var manifest = JsonSerializer.Serialize(new { vendor = "load", name, version = "1.0.0", builders = new Dictionary<string, string> { ["dotnet"] = "1.x" } });
        var service = JsonSerializer.Serialize(new
        {
            events = new { onLoad = new { sender = "load.publisher", keys = new[] { "load-event" }, delivery } },
        });
        await File.WriteAllTextAsync(Path.Combine(root, "manifest.json"), manifest, ct);
        await File.WriteAllTextAsync(Path.Combine(root, "dotnet", "service.json"), service, ct);
        var port = FreePort();
        var link = await LinkAsync(http, adminToken, workspace, "load." + name, service, $"http://127.0.0.1:{port}", ct);

        // The app's folder is its content root, and its configuration is not watched for changes: by default both are the
        // working directory, watched recursively, and a profiler or trace writing its file there woke the watcher's
        // thread hundreds of times a second inside the measured process.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = root, Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [HeraldAppSettings.BrokerUrlKey] = brokerUrl,
            [HeraldAppSettings.AppTokenKey] = link.Token,
            [HeraldAppSettings.SigningSecretsKey] = link.SigningSecret,
            [HeraldAppSettings.AccountKey] = Account,
            [HeraldAppSettings.WorkspaceKey] = workspace,
            [HeraldAppSettings.AppRootKey] = root,
        });
        builder.AddHeraldService(s => s.Events["onLoad"] = handler);
        var app = builder.Build();
        app.MapHeraldService();
        await app.StartAsync(ct);
        return app;
    }

    internal static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    internal static async Task<LinkResponse> LinkAsync(HttpClient http, string adminToken, string workspace, string sender, string service, string endpoint, CancellationToken ct)
    {
        var parts = sender.Split('.');
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/_herald/v1/{Account}/{workspace}/apps/{sender}")
        {
            Content = JsonContent.Create(new
            {
                manifest = JsonDocument.Parse($$"""{"vendor":"{{parts[0]}}","name":"{{parts[1]}}","version":"1.0.0"}""").RootElement,
                service = JsonDocument.Parse(service).RootElement,
                endpoint,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
        using var response = await http.SendAsync(request, ct);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<LinkResponse>(ct))!;
    }
}
