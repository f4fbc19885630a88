using Herald.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Herald.Cli.Hosting;

/// <summary>
/// Where a broker sends its traces and metrics over OTLP, read from OpenTelemetry's own variables: on when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, with <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> <c>grpc</c> (the default) or
/// <c>http/protobuf</c>, and <c>OTEL_SERVICE_NAME</c> (default <c>herald-broker</c>).
/// </summary>
internal sealed record OtlpExport(Uri Endpoint, OtlpExportProtocol Protocol, string ServiceName)
{
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ProtocolVariable = "OTEL_EXPORTER_OTLP_PROTOCOL";
    public const string ServiceNameVariable = "OTEL_SERVICE_NAME";

    /// <summary>The export the environment asks for, or <c>null</c> when it asks for none.</summary>
    /// <exception cref="CliException">A variable holds a value OpenTelemetry does not accept.</exception>
    public static OtlpExport? FromEnvironment(CliEnvironment environment)
    {
        if (environment.Variable(EndpointVariable) is not { } endpoint)
        {
            return null;
        }

        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException($"{EndpointVariable} must be the collector's http(s) URL, e.g. http://127.0.0.1:4317; found '{endpoint}'. Unset it to export nothing.");
        }

        var protocol = environment.Variable(ProtocolVariable) switch
        {
            null or "grpc" => OtlpExportProtocol.Grpc,
            "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            var other => throw new CliException($"{ProtocolVariable} must be 'grpc' or 'http/protobuf'; found '{other}'."),
        };
        return new OtlpExport(uri, protocol, environment.Variable(ServiceNameVariable) ?? "herald-broker");
    }

    /// <summary>Exports the broker's spans and metrics (<see cref="HeraldInstrumentation"/>) to the collector.</summary>
    public void AddTo(IServiceCollection services)
    {
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithTracing(tracing => tracing.AddHeraldInstrumentation().AddOtlpExporter(o => Configure(o, "v1/traces")))
            .WithMetrics(metrics => metrics.AddHeraldInstrumentation().AddOtlpExporter(o => Configure(o, "v1/metrics")));
    }

    private void Configure(OtlpExporterOptions options, string signalPath)
    {
        options.Protocol = Protocol;
        // Over HTTP an endpoint set in code is the signal's full URL; over gRPC it is the collector's address.
        options.Endpoint = Protocol == OtlpExportProtocol.HttpProtobuf ? new Uri(Endpoint, Endpoint.AbsolutePath.TrimEnd('/') + "/" + signalPath) : Endpoint;
    }
}
