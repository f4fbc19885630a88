using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Herald.Broker;
using Herald.Broker.Admin;
using Herald.Storage.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Fuzz.Publish;

/// <summary>
/// A real broker in this process on 127.0.0.1 (a free port) with a SQLite file in a temp folder, and the apps the
/// publish fuzzer needs: the sender whose token is "valid", the same app linked in another workspace and in another
/// account (their tokens are "foreign"), and a receiver subscribed to some keys (so accepted events fan out).
/// </summary>
public sealed class FuzzBroker : IAsyncDisposable
{
    public const string Account = "fuzzacct";
    public const string Workspace = "master";
    public const string OtherWorkspace = "other-ws";
    public const string OtherAccount = "otheracct";
    public const string SenderVendor = "fuzz";
    public const string SenderName = "sender";

    /// <summary>Keys the receiver subscribes to.</summary>
    public static readonly string[] SubscribedKeys = ["send-event", "order.created"];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly WebApplication _app;

    private FuzzBroker(WebApplication app, string dataDirectory, Uri baseAddress, string adminToken, long maxBodyBytes)
    {
        _app = app;
        DataDirectory = dataDirectory;
        BaseAddress = baseAddress;
        AdminToken = adminToken;
        MaxBodyBytes = maxBodyBytes;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public string DataDirectory { get; }

    public Uri BaseAddress { get; }

    public string AdminToken { get; }

    public long MaxBodyBytes { get; }

    /// <summary>An HTTP client for setup and checks (the fuzzer uses its own).</summary>
    public HttpClient Client { get; }

    /// <summary>The sender's token in <see cref="Account"/>/<see cref="Workspace"/>.</summary>
    public string SenderToken { get; private set; } = "";

    /// <summary>The same app's token in <see cref="Account"/>/<see cref="OtherWorkspace"/>.</summary>
    public string OtherWorkspaceToken { get; private set; } = "";

    /// <summary>The same app's token in <see cref="OtherAccount"/>/<see cref="Workspace"/>.</summary>
    public string OtherAccountToken { get; private set; } = "";

    /// <summary>A token the sender had before it was relinked: rotated, so no longer valid.</summary>
    public string RotatedToken { get; private set; } = "";

    public static async Task<FuzzBroker> StartAsync(long maxBodyBytes, CancellationToken cancellationToken = default)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("herald-fuzz-").FullName;
        var options = new BrokerOptions { Url = "http://127.0.0.1:0", DataDirectory = dataDirectory, MaxBodyBytes = maxBodyBytes };
        var builder = HeraldBroker.CreateBuilder(options);
        builder.Logging.ClearProviders();
        builder.Services.AddHeraldSqliteStore(Path.Combine(dataDirectory, "herald.db"));
        var app = HeraldBroker.Build(builder);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var adminToken = (await File.ReadAllTextAsync(Path.Combine(dataDirectory, "admin.token"), cancellationToken)).Trim();
        var broker = new FuzzBroker(app, dataDirectory, new Uri(address), adminToken, maxBodyBytes);
        try
        {
            await broker.LinkAppsAsync(cancellationToken);
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }

        return broker;
    }

    /// <summary>Whether <c>/readyz</c> answers 200 with every check Healthy.</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken = default)
    {
        using var response = await Client.GetAsync(new Uri("/readyz", UriKind.Relative), cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return false;
        }

        using var report = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return report.RootElement.GetProperty("status").GetString() == "Healthy";
    }

    /// <summary>A well-formed publish with the sender's token; returns the status code.</summary>
    public async Task<HttpStatusCode> PublishValidAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/{Account}/{Workspace}/events/send-event?resource=check")
        {
            Content = JsonContent.Create(new { random = 42 }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", SenderToken);
        using var response = await Client.SendAsync(request, cancellationToken);
        return response.StatusCode;
    }

    private async Task LinkAppsAsync(CancellationToken cancellationToken)
    {
        // Deliveries go to a port nobody listens on: they fail fast and are dead-lettered (retries 0).
        var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)closed.LocalEndpoint).Port}");
        closed.Stop();

        var senderService = """{"memory": 128, "timeout": 10}""";
        RotatedToken = (await LinkAsync(Account, Workspace, SenderVendor, SenderName, senderService, endpoint, cancellationToken)).Token;
        SenderToken = (await LinkAsync(Account, Workspace, SenderVendor, SenderName, senderService, endpoint, cancellationToken)).Token;
        OtherWorkspaceToken = (await LinkAsync(Account, OtherWorkspace, SenderVendor, SenderName, senderService, endpoint, cancellationToken)).Token;
        OtherAccountToken = (await LinkAsync(OtherAccount, Workspace, SenderVendor, SenderName, senderService, endpoint, cancellationToken)).Token;
        var delivery = """{"retries": 0, "timeout": 1000}""";
        var receiverService =
            "{\"events\": {" +
            $"\"onFuzz\": {{\"keys\": {JsonSerializer.Serialize(SubscribedKeys)}, \"delivery\": {delivery}}}, " +
            $"\"onSender\": {{\"sender\": \"{SenderVendor}.{SenderName}\", \"keys\": [\"send-event\"], \"delivery\": {delivery}}}" +
            "}}";
        await LinkAsync(Account, Workspace, "fuzz", "receiver", receiverService, endpoint, cancellationToken);
    }

    private async Task<LinkResponse> LinkAsync(string account, string workspace, string vendor, string name, string serviceJson, Uri endpoint, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/_herald/v1/{account}/{workspace}/apps/{vendor}.{name}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        var manifest = $$$"""{"vendor":"{{{vendor}}}","name":"{{{name}}}","version":"0.1.0","title":"{{{name}}}","builders":{"dotnet":"1.x"}}""";
        request.Content = JsonContent.Create(new
        {
            manifest = JsonDocument.Parse(manifest).RootElement,
            service = JsonDocument.Parse(serviceJson).RootElement,
            endpoint = endpoint.ToString().TrimEnd('/'),
        });
        using var response = await Client.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Linking {vendor}.{name} in {account}/{workspace} failed: {(int)response.StatusCode} {text}");
        }

        return JsonSerializer.Deserialize<LinkResponse>(text, Json)!;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still open (SQLite's WAL) only leaves a temp folder behind.
        }
    }
}
