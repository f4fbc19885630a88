using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Herald.Broker.Admin;
using Herald.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Broker.Tests;

/// <summary>
/// A real broker on 127.0.0.1 (a free port) with a SQLite file in a temp folder. The harness deletes the folder it made
/// when it is disposed; a folder given to it (a restart on another broker's data) belongs to the test that made it.
/// </summary>
public sealed class BrokerHarness : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly WebApplication _app;
    private readonly bool _ownsDataDirectory;

    private BrokerHarness(WebApplication app, string dataDirectory, bool ownsDataDirectory, Uri baseAddress, string adminToken)
    {
        _app = app;
        DataDirectory = dataDirectory;
        _ownsDataDirectory = ownsDataDirectory;
        BaseAddress = baseAddress;
        AdminToken = adminToken;
        Client = new HttpClient { BaseAddress = baseAddress };
    }

    public string DataDirectory { get; }

    public Uri BaseAddress { get; }

    public string AdminToken { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => _app.Services;

    public static async Task<BrokerHarness> StartAsync(TimeProvider? timeProvider = null, Action<BrokerOptions>? configure = null, string? dataDirectory = null, Action<IServiceCollection>? services = null, Action<WebApplication>? map = null)
    {
        var ownsDataDirectory = dataDirectory is null;
        dataDirectory ??= NewDataDirectory();
        var options = new BrokerOptions { Url = "http://127.0.0.1:0", DataDirectory = dataDirectory };
        configure?.Invoke(options);
        var builder = HeraldBroker.CreateBuilder(options);
        builder.Logging.ClearProviders();
        builder.Services.AddHeraldSqliteStore(Path.Combine(dataDirectory, "herald.db"));
        if (timeProvider is not null)
        {
            builder.Services.AddSingleton(timeProvider);
        }

        services?.Invoke(builder.Services);
        var app = HeraldBroker.Build(builder);
        map?.Invoke(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var adminToken = (await File.ReadAllTextAsync(Path.Combine(dataDirectory, "admin.token"))).Trim();
        return new BrokerHarness(app, dataDirectory, ownsDataDirectory, new Uri(address), adminToken);
    }

    /// <summary>A new empty folder for a broker's data; the caller deletes it.</summary>
    public static string NewDataDirectory() => Directory.CreateTempSubdirectory("herald-broker-test-").FullName;

    public static string Manifest(string vendor, string name) =>
        $$$"""{"vendor":"{{{vendor}}}","name":"{{{name}}}","version":"0.1.0","title":"{{{name}}}","builders":{"dotnet":"1.x"}}""";

    public async Task<LinkResponse> LinkAsync(string account, string workspace, string vendor, string name, string serviceJson, Uri endpoint)
    {
        using var request = Admin(HttpMethod.Put, $"/_herald/v1/{account}/{workspace}/apps/{vendor}.{name}");
        request.Content = JsonContent.Create(new
        {
            manifest = JsonDocument.Parse(Manifest(vendor, name)).RootElement,
            service = JsonDocument.Parse(serviceJson).RootElement,
            endpoint = endpoint.ToString().TrimEnd('/'),
        });
        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"link failed: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<LinkResponse>(text, Json)!;
    }

    public HttpRequestMessage Admin(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return request;
    }

    public async Task<HttpResponseMessage> PublishAsync(string? token, string account, string workspace, string key, string body, string? idempotencyKey = null, string? subject = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/{account}/{workspace}/events/{key}" + (subject is null ? "" : "?resource=" + Uri.EscapeDataString(subject)))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await Client.SendAsync(request);
    }

    public async Task<T> AdminGetAsync<T>(string path)
    {
        using var request = Admin(HttpMethod.Get, path);
        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path} failed: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<T>(text, Json)!;
    }

    public async Task<SubscriptionInfo> SubscriptionAsync(string account, string workspace, string subscriptionId)
    {
        var apps = await AdminGetAsync<AppsResponse>($"/_herald/v1/{account}/{workspace}/apps");
        return apps.Apps.SelectMany(a => a.Subscriptions).Single(s => s.Id == subscriptionId);
    }

    /// <summary>Stops the broker as SIGTERM does: the host's graceful shutdown, without disposing it.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownsDataDirectory)
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}

/// <summary>Polls a condition until it holds or a deadline passes.</summary>
public static class Eventually
{
    public static async Task<T> ReturnsAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, string what, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(20));
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        T last;
        while (true)
        {
            last = await probe();
            if (condition(last))
            {
                return last;
            }

            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"Timed out waiting for {what}; last value: {JsonSerializer.Serialize(last)}");
            }

            await poll.WaitForNextTickAsync();
        }
    }

    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? deadline = null) =>
        ReturnsAsync(() => Task.FromResult(condition()), c => c, what, deadline);
}
