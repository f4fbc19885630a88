using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Herald.Broker.Admin;

namespace Herald.EndToEnd.Tests;

/// <summary>
/// A real broker: <c>herald up</c> as its own process, with its own data folder and CLI home. It can be killed
/// with SIGKILL and started again on the same data and port.
/// </summary>
public sealed class BrokerProcess : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private RunningProcess _process;

    private readonly string[] _upArguments;

    private BrokerProcess(RunningProcess process, string home, string data, Uri url, string adminToken, string[] upArguments)
    {
        _upArguments = upArguments;
        _process = process;
        Home = home;
        DataDirectory = data;
        Url = url;
        AdminToken = adminToken;
        Client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The CLI's home folder (HERALD_HOME) for commands run against this broker.</summary>
    public string Home { get; }

    public string DataDirectory { get; }

    public Uri Url { get; }

    public string AdminToken { get; }

    public HttpClient Client { get; }

    public RunningProcess Process => _process;

    /// <summary>Starts <c>herald up</c> on a free port with a new data folder, and <paramref name="upArguments"/> (e.g. <c>--store</c>).</summary>
    public static Task<BrokerProcess> StartAsync(params string[] upArguments) => StartAsync(null, upArguments);

    /// <summary>
    /// Starts another broker with the keys of <paramref name="keysOf"/> (its <c>broker.key</c> and <c>admin.token</c>
    /// copied into the new data folder, as brokers sharing one cluster store are set up), or new keys when null.
    /// </summary>
    public static async Task<BrokerProcess> StartAsync(BrokerProcess? keysOf, params string[] upArguments)
    {
        var root = Directory.CreateTempSubdirectory("herald-e2e-").FullName;
        var home = Path.Combine(root, "home");
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(home);
        if (keysOf is not null)
        {
            Directory.CreateDirectory(data);
            foreach (var file in new[] { "broker.key", "admin.token" })
            {
                File.Copy(Path.Combine(keysOf.DataDirectory, file), Path.Combine(data, file));
            }
        }

        var (process, url) = await LaunchAsync(home, data, 0, upArguments);
        var token = (await File.ReadAllTextAsync(Path.Combine(data, "admin.token"))).Trim();
        return new BrokerProcess(process, home, data, url, token, upArguments);
    }

    private static async Task<(RunningProcess, Uri)> LaunchAsync(string home, string data, int port, string[] upArguments)
    {
        var process = RunningProcess.Start("herald up", "dotnet", [Repo.CliDll, "up", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--data", data, .. upArguments], Cli.Environment(home));
        try
        {
            var line = await process.WaitForLineAsync("Herald broker listening on ");
            return (process, new Uri(line[(line.IndexOf("http", StringComparison.Ordinal))..].Trim()));
        }
        catch
        {
            // A broker that did not come up is nobody's to stop: stop it here, or it would outlive the test.
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the broker with SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.KillHard();
        await _process.WaitForExitAsync();
    }

    /// <summary>Asks the broker to stop (SIGTERM, as a service manager does) and waits for it to exit; returns its exit code.</summary>
    public async Task<int> StopGracefullyAsync()
    {
        _process.Terminate();
        return await _process.WaitForExitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Starts the broker again on the same data folder and port.</summary>
    public async Task RestartAsync()
    {
        await _process.DisposeAsync();
        (_process, _) = await LaunchAsync(Home, DataDirectory, Url.Port, _upArguments);
    }

    public HttpRequestMessage Admin(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        return request;
    }

    public async Task<T> AdminAsync<T>(HttpMethod method, string path, object? body = null)
    {
        using var request = Admin(method, path, body);
        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonSerializer.Deserialize<T>(text, Json)!;
    }

    /// <summary>Publishes as <paramref name="sender"/> through the admin route.</summary>
    public async Task<PublishResponse> SendAsync(string account, string workspace, string sender, string key, string body)
    {
        var (status, text) = await TrySendAsync(account, workspace, sender, key, body);
        Assert.True(status == HttpStatusCode.Accepted, $"publish: {(int)status} {text}");
        return JsonSerializer.Deserialize<PublishResponse>(text, Json)!;
    }

    /// <summary>
    /// Publishes as <paramref name="sender"/> through the admin route, with <paramref name="idempotencyKey"/> when given;
    /// returns the status and body, whatever they are.
    /// </summary>
    public async Task<(HttpStatusCode Status, string Body)> TrySendAsync(string account, string workspace, string sender, string key, string body, string? idempotencyKey = null)
    {
        using var request = Admin(HttpMethod.Post, $"/_herald/v1/{account}/{workspace}/events/{key}?sender={sender}");
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await Client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<SubscriptionInfo> SubscriptionAsync(string account, string workspace, string id)
    {
        var apps = await AdminAsync<AppsResponse>(HttpMethod.Get, $"/_herald/v1/{account}/{workspace}/apps");
        return apps.Apps.SelectMany(a => a.Subscriptions).Single(s => s.Id == id);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(Path.GetDirectoryName(Home)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Runs CLI commands against a broker.</summary>
public static class Cli
{
    public static Dictionary<string, string?> Environment(string home) => new()
    {
        ["HERALD_HOME"] = home,
        ["HERALD_BROKER_URL"] = null,
        ["HERALD_ADMIN_TOKEN"] = null,
    };

    public static RunningProcess Start(BrokerProcess broker, string workingDirectory, Dictionary<string, string?>? extra = null, params string[] arguments)
    {
        var environment = Environment(broker.Home);
        foreach (var (key, value) in extra ?? [])
        {
            environment[key] = value;
        }

        return RunningProcess.Start("herald " + string.Join(' ', arguments), "dotnet", [Repo.CliDll, .. arguments], environment, workingDirectory);
    }

    public static async Task<(int ExitCode, string Output)> RunAsync(BrokerProcess broker, string workingDirectory, params string[] arguments)
    {
        await using var process = Start(broker, workingDirectory, null, arguments);
        var code = await process.WaitForExitAsync();
        await Task.Yield();
        return (code, process.Output);
    }
}
