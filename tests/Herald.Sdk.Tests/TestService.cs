using System.Net.Http.Headers;
using System.Text;
using Herald.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Herald.Sdk.Tests;

/// <summary>An app folder on disk (manifest.json and dotnet/service.json) in a temp folder.</summary>
public sealed class AppFolder : IDisposable
{
    public AppFolder(string serviceJson, string? manifestJson = null)
    {
        Root = Path.Combine(Path.GetTempPath(), "herald-sdk-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(Root, "dotnet"));
        File.WriteAllText(Path.Combine(Root, "manifest.json"), manifestJson ?? """{"vendor":"test","name":"app","version":"0.1.0","builders":{"dotnet":"1.x"}}""");
        File.WriteAllText(Path.Combine(Root, "dotnet", "service.json"), serviceJson);
    }

    public string Root { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A Herald service on real Kestrel at 127.0.0.1:0, with an HttpClient pointed at it.</summary>
public sealed class TestService : IAsyncDisposable
{
    public const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    public const string OtherSecret = "whsec_dGhpcyBpcyBhbm90aGVyIHNlY3JldCBmb3IgdGVzdHM=";

    private readonly AppFolder _folder;

    private TestService(AppFolder folder, WebApplication app, Uri address)
    {
        _folder = folder;
        App = app;
        Address = address;
        Http = new HttpClient { BaseAddress = address };
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public HttpClient Http { get; }

    public static Dictionary<string, string?> DefaultSettings(AppFolder folder) => new()
    {
        [HeraldAppSettings.AppRootKey] = folder.Root,
        [HeraldAppSettings.SigningSecretsKey] = Secret,
        [HeraldAppSettings.AccountKey] = "acme",
        [HeraldAppSettings.WorkspaceKey] = "dev",
        [HeraldAppSettings.AppTokenKey] = "app-token",
    };

    public static WebApplicationBuilder CreateBuilder(IDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        services?.Invoke(builder.Services);
        return builder;
    }

    public static async Task<TestService> StartAsync(
        string serviceJson,
        Action<HeraldService> configure,
        Action<IServiceCollection>? services = null,
        Action<Dictionary<string, string?>>? settings = null)
    {
        var folder = new AppFolder(serviceJson);
        var values = DefaultSettings(folder);
        settings?.Invoke(values);
        var builder = CreateBuilder(values, services);
        builder.AddHeraldService(configure);
        var app = builder.Build();
        app.MapHeraldService();
        await app.StartAsync();
        var address = new Uri(app.Urls.Single());
        return new TestService(folder, app, address);
    }

    /// <summary>A signed delivery, as the broker sends it.</summary>
    public static HttpRequestMessage Delivery(
        string handlerId,
        string body,
        string secret = Secret,
        DateTimeOffset? signedAt = null,
        string? bodyOnWire = null,
        int attempt = 1,
        string eventId = "0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var timestamp = (signedAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        var webhookId = "msg_" + eventId + "_" + attempt;
        var request = new HttpRequestMessage(HttpMethod.Post, "/acme/dev/_events")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(bodyOnWire ?? body)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(HeraldHeaders.EventHandlerId, handlerId);
        request.Headers.Add(HeraldHeaders.EventKey, "send-event");
        request.Headers.Add(HeraldHeaders.EventSender, "vtex.events-example");
        request.Headers.Add(HeraldHeaders.EventSubject, "order-1");
        request.Headers.Add(HeraldHeaders.Account, "acme");
        request.Headers.Add(HeraldHeaders.Workspace, "dev");
        request.Headers.Add(HeraldHeaders.Credential, "delivery-token");
        request.Headers.Add(HeraldHeaders.EventId, eventId);
        request.Headers.Add(HeraldHeaders.EventAttempt, attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(HeraldHeaders.EventTime, "2025-05-01T10:00:00Z");
        request.Headers.Add(HeraldHeaders.WebhookId, webhookId);
        request.Headers.Add(HeraldHeaders.WebhookTimestamp, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(HeraldHeaders.WebhookSignature, WebhookSignature.Sign(secret, webhookId, timestamp, bytes));
        var requestId = Guid.NewGuid().ToString("N");
        request.Headers.Add(HeraldHeaders.RequestId, requestId);
        var context = new DeliveryContext(webhookId, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture), requestId, handlerId, "send-event",
            "vtex.events-example", "order-1", "acme", "dev", attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(HeraldHeaders.ContextSignature, DeliveryContextSignature.Sign(secret, context));
        return request;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        _folder.Dispose();
    }
}
