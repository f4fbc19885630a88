using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Herald.Sdk;
using Herald.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Herald.Broker.Tests;

/// <summary>
/// One trace per event, seen through OpenTelemetry's in-memory exporter: the publish span, one span per delivery
/// attempt with its outcome, and the SDK's handler span, all in the publisher's trace with its tracestate.
/// </summary>
public sealed class TracingTests : IAsyncLifetime
{
    private const string TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    private const string TraceState = "vendor=abc123";

    private readonly ExportedSpans _spans = new();
    private readonly string _folder = Directory.CreateTempSubdirectory("herald-tracing-").FullName;
    private TracerProvider _tracing = null!;
    private BrokerHarness _broker = null!;
    private WebApplication? _app;
    private int _calls;

    public async Task InitializeAsync()
    {
        _tracing = OpenTelemetry.Sdk.CreateTracerProviderBuilder().AddHeraldInstrumentation().AddInMemoryExporter(_spans).Build();
        _broker = await BrokerHarness.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        await _broker.DisposeAsync();
        _tracing.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>Runs a listener app built with Herald's SDK in this process, whose handler fails twice, then succeeds.</summary>
    private async Task StartListenerAsync()
    {
        const string Service = """{"events":{"onThing":{"sender":"vtex.events-example","keys":["thing"],"delivery":{"retries":3,"initialBackoffDelay":1}}}}""";
        Directory.CreateDirectory(Path.Combine(_folder, "dotnet"));
        File.WriteAllText(Path.Combine(_folder, "manifest.json"), BrokerHarness.Manifest("vtex", "live-users"));
        File.WriteAllText(Path.Combine(_folder, "dotnet", "service.json"), Service);
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var linked = await _broker.LinkAsync("acme", "dev", "vtex", "live-users", Service, new Uri($"http://127.0.0.1:{port}"));
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            [HeraldAppSettings.AppRootKey] = _folder,
            [HeraldAppSettings.SigningSecretsKey] = linked.SigningSecret,
            [HeraldAppSettings.AccountKey] = "acme",
            [HeraldAppSettings.WorkspaceKey] = "dev",
            [HeraldAppSettings.AppTokenKey] = linked.Token,
        });
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        builder.AddHeraldService(service => service.Events["onThing"] = _ =>
            Interlocked.Increment(ref _calls) <= 2 ? throw new HeraldHttpException(503, "not yet") : Task.CompletedTask);
        _app = builder.Build();
        _app.MapHeraldService();
        await _app.StartAsync();
    }

    [Fact]
    public async Task AnEventDeliveredOnItsThirdAttempt_IsOneTrace_PublishThreeAttemptsAndTheHandler()
    {
        await StartListenerAsync();
        var sender = await _broker.LinkAsync("acme", "dev", "vtex", "events-example", "{}", new Uri("http://127.0.0.1:9"));
        using var publish = new HttpRequestMessage(HttpMethod.Put, "/acme/dev/events/thing") { Content = new StringContent("""{"n":1}""", System.Text.Encoding.UTF8, "application/json") };
        publish.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", sender.Token);
        publish.Headers.Add("traceparent", TraceParent);
        publish.Headers.Add("tracestate", TraceState);
        using var accepted = await _broker.Client.SendAsync(publish);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        var trace = await Eventually.ReturnsAsync(
            () =>
            {
                _tracing.ForceFlush();
                return Task.FromResult(_spans.Snapshot().Where(s => s.TraceId.ToHexString() == "4bf92f3577b34da6a3ce929d0e0e4736").ToList());
            },
            // An attempt's span ends after its handler's (the broker reads the answer after the app has sent it).
            spans => spans.Count(s => s.DisplayName == "process thing") == 3 && spans.Count(s => s.DisplayName == "deliver onThing") == 3,
            "the trace's three handler spans and three attempt spans");

        var root = Assert.Single(trace, s => s.DisplayName == "publish thing");
        Assert.Equal(ActivityKind.Producer, root.Kind);
        Assert.Equal("00f067aa0ba902b7", root.ParentSpanId.ToHexString());
        Assert.Equal(TraceState, root.TraceStateString);

        var attempts = trace.Where(s => s.DisplayName == "deliver onThing").OrderBy(s => (int)s.GetTagItem("herald.delivery.attempt")!).ToList();
        Assert.Equal([1, 2, 3], attempts.Select(a => (int)a.GetTagItem("herald.delivery.attempt")!));
        Assert.All(attempts, a =>
        {
            Assert.Equal(ActivityKind.Client, a.Kind);
            Assert.Equal(root.SpanId, a.ParentSpanId);
            Assert.Equal(TraceState, a.TraceStateString);
            Assert.Equal("herald", a.GetTagItem("messaging.system"));
        });
        Assert.Equal([503, 503, 204], attempts.Select(a => (int)a.GetTagItem("http.response.status_code")!));
        Assert.Equal(["503", "503", null], attempts.Select(a => (string?)a.GetTagItem("error.type")));
        Assert.Equal([ActivityStatusCode.Error, ActivityStatusCode.Error, ActivityStatusCode.Unset], attempts.Select(a => a.Status));

        var handlers = trace.Where(s => s.DisplayName == "process thing").ToList();
        Assert.Equal(attempts.Select(a => a.SpanId.ToHexString()).Order(StringComparer.Ordinal), handlers.Select(h => h.ParentSpanId.ToHexString()).Order(StringComparer.Ordinal));
        Assert.All(handlers, h => Assert.Equal(ActivityKind.Consumer, h.Kind));
    }
}

/// <summary>What the in-memory exporter writes, from the exporting threads, read whole by the test.</summary>
internal sealed class ExportedSpans : System.Collections.ObjectModel.Collection<Activity>
{
    private readonly Lock _gate = new();

    public List<Activity> Snapshot()
    {
        lock (_gate)
        {
            return [.. this];
        }
    }

    protected override void InsertItem(int index, Activity item)
    {
        lock (_gate)
        {
            base.InsertItem(index, item);
        }
    }
}
