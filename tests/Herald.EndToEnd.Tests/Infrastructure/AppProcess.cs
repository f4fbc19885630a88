using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Herald.Broker.Admin;

namespace Herald.EndToEnd.Tests;

/// <summary>
/// A real app process (a sample or the test subscriber), linked through the admin API and started with the
/// credentials the link returned, as <c>herald link</c> does.
/// </summary>
public sealed class AppProcess : IAsyncDisposable
{
    private readonly string _appFolder;
    private readonly Dictionary<string, string?> _environment;

    private AppProcess(RunningProcess process, Uri endpoint, LinkResponse link, string? recordFile, string appFolder, Dictionary<string, string?> environment)
    {
        _appFolder = appFolder;
        _environment = environment;
        Process = process;
        Endpoint = endpoint;
        Link = link;
        RecordFile = recordFile;
    }

    public RunningProcess Process { get; private set; }

    public Uri Endpoint { get; }

    public LinkResponse Link { get; }

    public string? RecordFile { get; }

    public static async Task<AppProcess> StartAsync(BrokerProcess broker, string appFolder, string account, string workspace, Dictionary<string, string?>? environment = null)
    {
        var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(appFolder, "manifest.json"))).RootElement;
        var service = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(appFolder, "dotnet", "service.json"))).RootElement;
        var app = $"{manifest.GetProperty("vendor").GetString()}.{manifest.GetProperty("name").GetString()}";
        var port = FreePort();
        var endpoint = new Uri($"http://127.0.0.1:{port}");
        var link = await broker.AdminAsync<LinkResponse>(HttpMethod.Put, $"/_herald/v1/{account}/{workspace}/apps/{app}",
            new LinkRequest(manifest, service, endpoint.ToString().TrimEnd('/')));
        var recordFile = Path.Combine(Path.GetTempPath(), $"herald-e2e-record-{Guid.NewGuid():N}.jsonl");
        var env = new Dictionary<string, string?>
        {
            ["HERALD_BROKER_URL"] = broker.Url.ToString().TrimEnd('/'),
            ["HERALD_APP_TOKEN"] = link.Token,
            ["HERALD_SIGNING_SECRETS"] = link.SigningSecret,
            ["HERALD_ACCOUNT"] = account,
            ["HERALD_WORKSPACE"] = workspace,
            ["HERALD_APP_ROOT"] = appFolder,
            ["TEST_SUBSCRIBER_RECORD"] = recordFile,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
        };
        foreach (var (key, value) in environment ?? [])
        {
            env[key] = value;
        }

        var process = RunningProcess.Start(app, "dotnet", [Repo.AppDll(appFolder), "--urls", endpoint.ToString().TrimEnd('/')], env);
        var started = new AppProcess(process, endpoint, link, recordFile, appFolder, env);
        try
        {
            await started.WaitReadyAsync();
        }
        catch
        {
            // An app that did not come up is nobody's to stop: stop it here, or it would outlive the test.
            await started.DisposeAsync();
            throw;
        }

        return started;
    }

    /// <summary>Starts the app again on the same port with the same credentials and record file (after it died).</summary>
    public async Task RestartAsync()
    {
        await Process.DisposeAsync();
        Process = RunningProcess.Start(Process.Name, "dotnet", [Repo.AppDll(_appFolder), "--urls", Endpoint.ToString().TrimEnd('/')], _environment);
        await WaitReadyAsync();
    }

    private async Task WaitReadyAsync()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        bool ready;
        try
        {
            ready = await Eventually.ReturnsAsync(
            async () =>
            {
                try
                {
                    using var response = await client.GetAsync(new Uri(Endpoint, "/_herald/ready"));
                    return response.IsSuccessStatusCode;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            },
            isReady => isReady || Process.HasExited,
            $"{Process.Name} to answer /_herald/ready");
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}. Output:{Environment.NewLine}{Process.Output}", ex);
        }

        if (!ready)
        {
            throw new InvalidOperationException($"{Process.Name} exited before it was ready. Output:{Environment.NewLine}{Process.Output}");
        }
    }

    /// <summary>The test subscriber's records, one per handler call.</summary>
    public IReadOnlyList<JsonElement> Records()
    {
        if (RecordFile is null || !File.Exists(RecordFile))
        {
            return [];
        }

        using var stream = new FileStream(RecordFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var records = new List<JsonElement>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && line.EndsWith('}'))
            {
                try
                {
                    records.Add(JsonDocument.Parse(line).RootElement.Clone());
                }
                catch (JsonException)
                {
                    // A line still being written.
                }
            }
        }

        return records;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await Process.DisposeAsync();
        if (RecordFile is not null)
        {
            File.Delete(RecordFile);
        }
    }
}

/// <summary>Polls a condition, on a 50 ms period, until it holds or a deadline passes.</summary>
public static class Eventually
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(50);

    public static async Task<T> ReturnsAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, string what, TimeSpan? deadline = null)
    {
        var until = DateTime.UtcNow + (deadline ?? TimeSpan.FromSeconds(60));
        using var timer = new PeriodicTimer(Period);
        while (true)
        {
            var last = await probe();
            if (condition(last))
            {
                return last;
            }

            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"Timed out waiting for {what}; last value: {JsonSerializer.Serialize(last)}");
            }

            await timer.WaitForNextTickAsync();
        }
    }

    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? deadline = null) =>
        ReturnsAsync(() => Task.FromResult(condition()), c => c, what, deadline);
}
