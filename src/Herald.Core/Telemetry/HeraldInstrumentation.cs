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

    /// <summary>The SQLite store's Meter: its writer's commits and how long a write waits for one.</summary>
    public const string SqliteStore = "Herald.Storage.Sqlite";

    /// <summary>
    /// The bucket boundaries, in seconds, of Herald's duration histograms: from half a millisecond (a commit on a local
    /// disk, a publish on loopback) to ten seconds (an attempt's default timeout).
    /// </summary>
    public static IReadOnlyList<double> DurationBuckets { get; } = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

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
        return builder.AddMeter(Broker, Sdk, SqliteStore);
    }
}
