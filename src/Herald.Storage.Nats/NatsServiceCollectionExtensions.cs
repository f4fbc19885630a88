using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Herald.Storage.Nats;

/// <summary>Registers the NATS JetStream store.</summary>
public static class NatsServiceCollectionExtensions
{
    /// <summary>Uses the NATS JetStream cluster configured by <paramref name="configure"/> as the broker's store.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static IServiceCollection AddHeraldNatsStore(this IServiceCollection services, Action<NatsStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new NatsStoreOptions { Url = "" };
        configure(options);
        if (options.Validate() is { } problems)
        {
            throw new ArgumentException(problems, nameof(configure));
        }

        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new NatsEventStore(options, sp.GetRequiredService<TimeProvider>(), sp.GetService<ILogger<NatsEventStore>>()));
        services.AddSingleton<IEventStore>(sp => sp.GetRequiredService<NatsEventStore>());
        services.AddSingleton<IAppStore>(sp => sp.GetRequiredService<NatsEventStore>());
        services.AddSingleton<IDeadLetterStore>(sp => sp.GetRequiredService<NatsEventStore>());
        services.AddSingleton<IRetentionStore>(sp => sp.GetRequiredService<NatsEventStore>());
        services.AddSingleton<IFeedRelay>(sp => sp.GetRequiredService<NatsEventStore>());
        services.AddSingleton<IKeyAgreement>(sp => sp.GetRequiredService<NatsEventStore>());
        return services;
    }
}
