using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Herald.Storage.Sqlite;

/// <summary>Registers the SQLite store.</summary>
public static class SqliteServiceCollectionExtensions
{
    /// <summary>Uses the SQLite database at <paramref name="databasePath"/> (created when missing) as the broker's store.</summary>
    public static IServiceCollection AddHeraldSqliteStore(this IServiceCollection services, string databasePath) =>
        services.AddHeraldSqliteStore(options => options.DatabasePath = databasePath);

    /// <summary>Uses the SQLite store configured by <paramref name="configure"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static IServiceCollection AddHeraldSqliteStore(this IServiceCollection services, Action<SqliteStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new SqliteStoreOptions { DatabasePath = "" };
        configure(options);
        if (options.Validate() is { } problems)
        {
            throw new ArgumentException(problems, nameof(configure));
        }

        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SqliteEventStore>();
        services.AddSingleton<IEventStore>(sp => sp.GetRequiredService<SqliteEventStore>());
        services.AddSingleton<IAppStore>(sp => sp.GetRequiredService<SqliteEventStore>());
        services.AddSingleton<IDeadLetterStore>(sp => sp.GetRequiredService<SqliteEventStore>());
        services.AddSingleton<IRetentionStore>(sp => sp.GetRequiredService<SqliteEventStore>());
        return services;
    }
}
