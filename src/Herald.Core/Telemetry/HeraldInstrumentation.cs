using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Herald.Telemetry;

/// <summary>The names of Herald's ActivitySources and Meters, and their OpenTelemetry registration.</summary>
public static class HeraldInstrumentation
{
    /// <summary>The broker's ActivitySource and Meter: publish and delivery-attempt spans, delivery metrics.</summary>
    public const string Broker = "Herald.Broker";

    /// <summary>The SDK's ActivitySource: the handler spans of an app's events and routes.</summary>
    public const string Sdk = "Herald.Sdk";

    /// <summary>Adds Herald's spans (the broker's publish and attempts, the SDK's handlers) to the traces exported.</summary>
    public static TracerProviderBuilder AddHeraldInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(Broker, Sdk);
    }

    /// <summary>Adds Herald's metrics to the metrics exported.</summary>
    public static MeterProviderBuilder AddHeraldInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(Broker, Sdk);
    }
}
