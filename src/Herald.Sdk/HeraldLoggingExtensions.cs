using Microsoft.Extensions.Logging.Console;

namespace Microsoft.Extensions.Logging;

/// <summary>Console logging for apps run by <c>herald link</c>, which streams the app's standard output.</summary>
public static class HeraldLoggingExtensions
{
    /// <summary>
    /// Replaces the logging providers with the simple console formatter writing one line per message to standard
    /// output, and quiets the per-request logs of ASP.NET Core and HttpClient (warnings and above only).
    /// </summary>
    public static ILoggingBuilder AddHeraldConsole(this ILoggingBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.ClearProviders();
        builder.AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        return builder;
    }
}
