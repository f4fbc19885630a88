using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Herald.Cli.Tests;

/// <summary><c>herald up</c> with OpenTelemetry's OTLP variables sends its spans to the collector they name.</summary>
public sealed class OtlpExportTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _received = new();
    private WebApplication _collector = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _collector = builder.Build();
        _collector.MapPost("/v1/{signal}", async (HttpRequest request, string signal) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            _received.Enqueue(("/v1/" + signal, body.ToArray()));
            return Results.Bytes([], "application/x-protobuf");
        });
        await _collector.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _collector.StopAsync();
        await _collector.DisposeAsync();
    }

    [Fact]
    public async Task Up_WithAnOtlpEndpoint_ExportsThePublishSpan()
    {
        var broker = new BrokerFixture();
        broker.Cli.Variables["OTEL_EXPORTER_OTLP_ENDPOINT"] = _collector.Urls.Single();
        broker.Cli.Variables["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        await broker.InitializeAsync();
        try
        {
            Assert.Equal(0, (await broker.Cli.RunAsync("send", "traced-event")).ExitCode);

            // The span's name and the service's are plain UTF-8 strings inside the protobuf request.
            await Eventually.TrueAsync(
                () => Task.FromResult(_received.Any(r => r.Path == "/v1/traces" && Contains(r.Body, "publish traced-event") && Contains(r.Body, "herald-broker"))),
                TimeSpan.FromSeconds(30),
                $"the publish span at the collector (received: {string.Join(", ", _received.Select(r => $"{r.Path} {r.Body.Length} bytes"))})");
            Assert.Contains("Traces and metrics to " + _collector.Urls.Single(), broker.UpOutput!.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            await broker.DisposeAsync();
        }
    }

    [Fact]
    public async Task Up_WithAnOtlpProtocolItDoesNotKnow_SaysWhichAreAccepted()
    {
        using var cli = new CliHarness();
        cli.Variables["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4317";
        cli.Variables["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/json";

        var result = await cli.RunAsync("up", "--port", "0", "--data", Path.Combine(cli.Root, "data"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("OTEL_EXPORTER_OTLP_PROTOCOL must be 'grpc' or 'http/protobuf'; found 'http/json'.", result.Error, StringComparison.Ordinal);
    }

    private static bool Contains(byte[] haystack, string needle) => haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;
}
