using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Herald.Broker;

/// <summary>The broker's ActivitySource and Meter, named for OpenTelemetry's messaging conventions.</summary>
public static class BrokerTelemetry
{
    /// <summary>The name of the broker's ActivitySource and Meter.</summary>
    public const string Name = "Herald.Broker";

    internal static readonly ActivitySource Source = new(Name);

    internal static readonly Meter Meter = new(Name);

    internal static readonly Counter<long> Published = Meter.CreateCounter<long>("herald.events.published", "{event}", "Events accepted by publish.");

    internal static readonly Counter<long> Outcomes = Meter.CreateCounter<long>("herald.deliveries.outcomes", "{attempt}", "Delivery attempts by outcome (delivered, retrying, dead).");

    internal static readonly Counter<long> AuthRefused = Meter.CreateCounter<long>("herald.auth.refused", "{request}", "Requests refused for their credentials, by reason (missing, unknown, not_admin, other_workspace).");

    internal static readonly Histogram<double> OperationDuration = Meter.CreateHistogram<double>("messaging.client.operation.duration", "s", "Duration of publish and delivery operations.");
}
