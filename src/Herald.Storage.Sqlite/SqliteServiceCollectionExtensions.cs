using Microsoft.Extensions.DependencyInjection;

namespace Herald.Storage.Sqlite;

/// <summary>Registers the SQLite store.</summary>
public static class SqliteServiceCollectionExtensions
{
    /// <summary>Uses the SQLite database at <paramref name="databasePath"/> (created when missing) as the broker's store.</summary>
    public static IServiceCollection AddHeraldSqliteStore(this IServiceCollection services, string databasePath)
    {
        throw new NotImplementedException();
    }
}
