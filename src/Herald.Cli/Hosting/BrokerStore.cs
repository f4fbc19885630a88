using System.Globalization;
using Herald.Storage.Nats;
using Herald.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Cli.Hosting;

/// <summary>
/// Where a broker keeps its data: the embedded SQLite file in the data folder (the default), or a NATS JetStream
/// cluster shared by every broker on it (<c>--store nats://HOST:PORT[,HOST:PORT...]</c>).
/// </summary>
internal sealed record BrokerStore(string? NatsUrls, int Replicas)
{
    /// <summary>The embedded SQLite store.</summary>
    public static BrokerStore Sqlite { get; } = new(null, 0);

    /// <summary>What <c>--store</c> says.</summary>
    public const string OptionHelp = "Where events are kept: 'sqlite' (a file in the data folder, the default) or a NATS JetStream cluster, nats://HOST:PORT[,HOST:PORT...].";

    /// <summary>Reads <c>--store</c> and <c>--replicas</c>; the error says what is accepted.</summary>
    public static BrokerStore Parse(string? store, int? replicas)
    {
        if (store is null or "sqlite")
        {
            if (replicas is not null)
            {
                throw new CliException("--replicas applies to a NATS store only (--store nats://...).", ExitCodes.UserError);
            }

            return Sqlite;
        }

        var urls = store.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (urls.Length == 0 || urls.Any(u => !Uri.TryCreate(u, UriKind.Absolute, out var uri) || uri.Scheme != "nats" || uri.Port <= 0))
        {
            throw new CliException($"--store must be 'sqlite' or NATS URLs with ports, e.g. nats://127.0.0.1:4222,nats://127.0.0.1:4223; found '{store}'.", ExitCodes.UserError);
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
            services.AddHeraldSqliteStore(Path.Combine(dataDirectory, InProcessBroker.DatabaseFile));
        }
        else
        {
            services.AddHeraldNatsStore(options =>
            {
                options.Url = NatsUrls;
                options.Replicas = Replicas;
            });
        }
    }

    /// <summary>How the store is named to the user.</summary>
    public string Describe(string dataDirectory) =>
        NatsUrls is null ? $"a SQLite database in {dataDirectory}" : $"the NATS JetStream cluster at {NatsUrls} (R{Replicas.ToString(CultureInfo.InvariantCulture)})";
}
