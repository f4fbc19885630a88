using System.Globalization;
using Herald.Storage.Nats;
using Herald.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Cli.Hosting;

/// <summary>
/// Where a broker keeps its data: the embedded SQLite file in the data folder (the default), or a NATS JetStream
/// cluster shared by every broker on it (<c>--store nats://HOST:PORT[,HOST:PORT...]</c>), with the store's options
/// from configuration (<c>Herald:Sqlite:…</c> or <c>Herald:Nats:…</c>, see <see cref="BrokerConfiguration"/>).
/// </summary>
internal sealed record BrokerStore(string? NatsUrls, int Replicas)
{
    /// <summary>The embedded SQLite store.</summary>
    public static BrokerStore Sqlite { get; } = new(null, 0);

    /// <summary>What <c>--store</c> says.</summary>
    public const string OptionHelp = "Where events are kept: 'sqlite' (a file in the data folder, the default) or a NATS JetStream cluster, nats://HOST:PORT[,HOST:PORT...].";

    /// <summary>Sets the SQLite store's options from configuration (its database path is set from the data folder).</summary>
    public Action<SqliteStoreOptions> ConfigureSqlite { get; init; } = _ => { };

    /// <summary>Sets the NATS store's options from configuration (its URLs and replicas are set from this record).</summary>
    public Action<NatsStoreOptions> ConfigureNats { get; init; } = _ => { };

    /// <summary>Reads <c>--store</c> and <c>--replicas</c>; the error says what is accepted.</summary>
    /// <param name="store">The option's value, or the configuration key's (<paramref name="source"/> names which).</param>
    /// <param name="replicas">How many servers keep each stream, when given.</param>
    /// <param name="source">How the store was given, for the error message.</param>
    public static BrokerStore Parse(string? store, int? replicas, string source = "--store")
    {
        if (store is null or "sqlite")
        {
            if (replicas is not null)
            {
                throw new CliException($"--replicas applies to a NATS store only ({source} nats://...).", ExitCodes.UserError);
            }

            return Sqlite;
        }

        var urls = store.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (urls.Length == 0 || urls.Any(u => !Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme != "nats" || uri.Port <= 0))
        {
            throw new CliException($"{source} must be 'sqlite' or NATS URLs with ports, e.g. nats://127.0.0.1:4222,nats://127.0.0.1:4223; found '{store}'.", ExitCodes.UserError);
        }

        // One replica per listed server up to three: three servers make a cluster that survives losing one.
        var count = replicas ?? Math.Min(urls.Length, 3);
        if (count is < 1 or > 5)
        {
            throw new CliException($"--replicas must be from 1 to 5; found {count.ToString(CultureInfo.InvariantCulture)}.", ExitCodes.UserError);
        }

        return new BrokerStore(string.Join(',', urls), count);
    }

    /// <summary>Registers this store with the broker's services.</summary>
    public void AddTo(IServiceCollection services, string dataDirectory)
    {
        if (NatsUrls is null)
        {
            services.AddHeraldSqliteStore(options =>
            {
                ConfigureSqlite(options);
                options.DatabasePath = Path.Combine(dataDirectory, InProcessBroker.DatabaseFile);
            });
        }
        else
        {
            services.AddHeraldNatsStore(options =>
            {
                ConfigureNats(options);
                options.Url = NatsUrls;
                options.Replicas = Replicas;
            });
        }
    }

    /// <summary>How the store is named to the user.</summary>
    public string Describe(string dataDirectory) =>
        NatsUrls is null ? $"a SQLite database in {dataDirectory}" : $"the NATS JetStream cluster at {NatsUrls} (R{Replicas.ToString(CultureInfo.InvariantCulture)})";
}
