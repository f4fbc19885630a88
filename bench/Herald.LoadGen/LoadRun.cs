using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Herald.Broker;
using Herald.Broker.Admin;
using Herald.Sdk;
using Herald.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.LoadGen;

internal sealed record LoadOptions(int Events, int Subscribers, int Concurrency, int DeliveryConcurrency, string? Broker, string? AdminToken, string? DataDirectory, TimeSpan Timeout);

internal static class LoadRun
{
    internal const string Account = "load";

    public static async Task<int> RunAsync(LoadOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.Timeout);
        var ct = deadline.Token;
        var workspace = "load-" + Guid.NewGuid().ToString("N")[..8];
        WebApplication? ownBroker = null;
        string? tempData = null;
        var brokerUrl = options.Broker;
        var adminToken = options.AdminToken;
        if (brokerUrl is null)
        {
            tempData = Directory.CreateTempSubdirectory("herald-load-").FullName;
            var builder = HeraldBroker.CreateBuilder(new BrokerOptions { Url = "http://127.0.0.1:0", DataDirectory = tempData });
            builder.Logging.ClearProviders();
            builder.Services.AddHeraldSqliteStore(Path.Combine(tempData, "herald.db"));
            ownBroker = HeraldBroker.Build(builder);
            await ownBroker.StartAsync(ct);
            brokerUrl = Address(ownBroker);
            adminToken = (await File.ReadAllTextAsync(Path.Combine(tempData, "admin.token"), ct)).Trim();
        }
        else
        {
            adminToken ??= options.DataDirectory is { } dir ? (await File.ReadAllTextAsync(Path.Combine(dir, "admin.token"), ct)).Trim() : null;
            if (adminToken is null)
            {
                await output.WriteLineAsync("With --broker, give --admin-token or --data (the broker's data folder).");
                return 1;
            }
        }

        var received = new ConcurrentDictionary<(int Subscriber, string EventId), double>();
        var apps = new List<WebApplication>();
        var tempApps = Directory.CreateTempSubdirectory("herald-load-apps-").FullName;
        using var http = new HttpClient { BaseAddress = new Uri(brokerUrl!) };
        try
        {
            for (var i = 0; i < options.Subscribers; i++)
            {
                var subscriber = i;
                apps.Add(await StartSubscriberAsync(http, adminToken!, brokerUrl!, workspace, $"subscriber{i}", new { concurrency = options.DeliveryConcurrency }, context =>
                {
                    received.TryAdd((subscriber, context.EventId), (DateTimeOffset.UtcNow - context.Time!.Value).TotalMilliseconds);
                    return Task.CompletedTask;
                }, tempApps, ct));
            }

            var publisherToken = (await LinkAsync(http, adminToken!, workspace, "load.publisher", "{}", "http://127.0.0.1:9", ct)).Token;
            await output.WriteLineAsync($"Publishing {options.Events} events to {brokerUrl} ({Account}/{workspace}), {options.Subscribers} subscribers, {options.Concurrency} publishes in flight.");

            var publishLatencies = new double[options.Events];
            var next = -1;
            var failures = 0;
            var clock = Stopwatch.StartNew();
            var publishers = Enumerable.Range(0, options.Concurrency).Select(async _ =>
            {
                int n;
                while ((n = Interlocked.Increment(ref next)) < options.Events)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Put, $"/{Account}/{workspace}/events/load-event")
                    {
                        Content = new StringContent($$"""{"n":{{n}},"payload":"load-generator"}""", Encoding.UTF8, "application/json"),
                    };
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", publisherToken);
                    var started = Stopwatch.GetTimestamp();
                    using var response = await http.SendAsync(request, ct);
                    publishLatencies[n] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                    if ((int)response.StatusCode != 202)
                    {
                        Interlocked.Increment(ref failures);
                    }
                }
            }).ToList();
            await Task.WhenAll(publishers);
            var publishSeconds = clock.Elapsed.TotalSeconds;
            var expected = (long)(options.Events - failures) * options.Subscribers;
            while (received.Count < expected)
            {
                await Task.Delay(10, ct);
            }

            var totalSeconds = clock.Elapsed.TotalSeconds;
            var endToEnd = received.Values.Order().ToArray();
            Array.Sort(publishLatencies);
            await output.WriteLineAsync($"published: {options.Events - failures} accepted, {failures} refused, in {publishSeconds:0.00} s = {(options.Events - failures) / publishSeconds:0} events/s");
            await output.WriteLineAsync($"delivered: {endToEnd.Length} deliveries in {totalSeconds:0.00} s = {endToEnd.Length / totalSeconds:0} deliveries/s");
            await output.WriteLineAsync($"publish latency ms: p50 {Percentile(publishLatencies, 0.50):0.0}  p99 {Percentile(publishLatencies, 0.99):0.0}  max {publishLatencies[^1]:0.0}");
            await output.WriteLineAsync($"publish→handler latency ms: p50 {Percentile(endToEnd, 0.50):0.0}  p99 {Percentile(endToEnd, 0.99):0.0}  max {endToEnd[^1]:0.0}");
            return failures == 0 ? 0 : 1;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await output.WriteLineAsync($"Stopped after {options.Timeout.TotalSeconds:0} s with {received.Count} deliveries received.");
            return 2;
        }
        finally
        {
            foreach (var app in apps)
            {
                await app.StopAsync(CancellationToken.None);
                await app.DisposeAsync();
            }

            if (ownBroker is not null)
            {
                await ownBroker.StopAsync(CancellationToken.None);
                await ownBroker.DisposeAsync();
            }

            Directory.Delete(tempApps, recursive: true);
            if (tempData is not null)
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(tempData, recursive: true);
            }
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

        var builder = WebApplication.CreateBuilder();
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

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Address(WebApplication app) =>
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
