using Herald.Broker.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Storage.Sqlite;

/// <summary>Registers the SQLite store.</summary>
public static class SqliteServiceCollectionExtensions
{
    /// <summary>Uses the SQLite database at <paramref name="databasePath"/> (created when missing) as the broker's store.</summary>
    public static IServiceCollection AddHeraldSqliteStore(this IServiceCollection services, string databasePath) =>
        services.AddHeraldSqliteStore(options => options.DatabasePath = databasePath);

    /// <summary>Uses the SQLite store configured by <paramref name="configure"/>.</summary>
    public static IServiceCollection AddHeraldSqliteStore(this IServiceCollection services, Action<SqliteStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new SqliteStoreOptions { DatabasePath = "" };
        configure(options);
        if (string.IsNullOrWhiteSpace(options.DatabasePath))
        {
            throw new ArgumentException("SqliteStoreOptions.DatabasePath must name a file, e.g. ~/.herald/data/herald.db.", nameof(configure));
        }

        services.AddSingleton(options);
        services.AddSingleton<SqliteEventStore>();
        services.AddSingleton<IEventStore>(sp => sp.GetRequiredService<SqliteEventStore>());
        services.AddSingleton<IAppStore>(sp => sp.GetRequiredService<SqliteEventStore>());
        services.AddSingleton<IDeadLetterStore>(sp => sp.GetRequiredService<SqliteEventStore>());
        services.AddSingleton<IRetentionStore>(sp => sp.GetRequiredService<SqliteEventStore>());
        return services;
    }
}
