namespace Herald.Sdk;

/// <summary>Names the SDK publishes.</summary>
public static class HeraldSdk
{
    /// <summary>The name of the SDK's <see cref="System.Diagnostics.ActivitySource"/>.</summary>
    public const string ActivitySourceName = Herald.Telemetry.HeraldInstrumentation.Sdk;

    /// <summary>The path the CLI polls to know the app is up; answers <c>ok</c>.</summary>
    public const string ReadyPath = "/_herald/ready";
}
