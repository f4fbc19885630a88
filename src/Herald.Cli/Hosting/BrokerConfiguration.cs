using System.Text.Json;
using Herald.Broker;
using Herald.Storage.Nats;
using Herald.Storage.Sqlite;
using Microsoft.Extensions.Configuration;

namespace Herald.Cli.Hosting;

/// <summary>
/// The options of a broker that <c>herald up</c> runs, from, in rising order of precedence: their defaults, the
/// <c>Herald</c> section of the file given with <c>--config</c>, <c>Herald__…</c> environment variables, and the
/// command's own flags. Every problem is reported at once, each naming its key, its rule and the value found; a
/// broker with a problem does not start (docs/operations.md, "Configuration").
/// </summary>
internal static class BrokerConfiguration
{
    /// <summary>The prefix of the environment variables that set options (<c>Herald__MaxBodyBytes=2097152</c>).</summary>
    public const string VariablePrefix = HeraldConfiguration.Section + "__";

    private const string StoreKey = "Store";
    private const string SqliteKey = "Sqlite";
    private const string NatsKey = "Nats";

    /// <summary>What the command line says, where it says anything: <c>null</c> leaves the configuration's value.</summary>
    public sealed record Flags(string? Url, string? DataDirectory, string? Store, int? Replicas);

    /// <summary>Reads the configuration and the flags into the broker's options and its store.</summary>
    /// <exception cref="CliException">The file cannot be read, or values are wrong; the message lists every problem.</exception>
    public static (BrokerOptions Broker, BrokerStore Store) Load(CliEnvironment environment, string? configFile, Flags flags)
    {
        var section = Read(environment, configFile).GetSection(HeraldConfiguration.Section);
        var errors = new List<string>();

        var broker = new BrokerOptions { DataDirectory = BrokerTarget.DefaultDataDirectory(environment) };
        HeraldConfiguration.Bind(section, broker, errors, new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            [StoreKey] = null,
            [SqliteKey] = null,
            [NatsKey] = null,
        });
        broker.Url = flags.Url ?? broker.Url;
        broker.DataDirectory = environment.FullPath(flags.DataDirectory ?? broker.DataDirectory);

        var storeSection = section.GetSection(StoreKey);
        var storeValue = flags.Store ?? storeSection.Value;
        BrokerStore store;
        try
        {
            store = BrokerStore.Parse(storeValue, null, flags.Store is null && storeValue is not null ? storeSection.Path : "--store");
        }
        catch (CliException e)
        {
            errors.Add(e.Message);
            store = BrokerStore.Sqlite;
        }

        var sqliteSection = section.GetSection(SqliteKey);
        var natsSection = section.GetSection(NatsKey);
        var sqlite = new SqliteStoreOptions { DatabasePath = Path.Combine(broker.DataDirectory, InProcessBroker.DatabaseFile) };
        HeraldConfiguration.Bind(sqliteSection, sqlite, errors, new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            [nameof(SqliteStoreOptions.DatabasePath)] = $"the database is {InProcessBroker.DatabaseFile} in the data folder; set {section.Path}:{nameof(BrokerOptions.DataDirectory)} (or --data) instead.",
        });
        errors.AddRange(HeraldConfiguration.Keyed(sqliteSection, sqlite.Problems()));

        if (store.NatsUrls is null)
        {
            if (flags.Replicas is not null)
            {
                throw new CliException("--replicas applies to a NATS store only (--store nats://...).", ExitCodes.UserError);
            }
        }
        else
        {
            var nats = new NatsStoreOptions { Url = store.NatsUrls, Replicas = store.Replicas };
            HeraldConfiguration.Bind(natsSection, nats, errors, new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
            {
                [nameof(NatsStoreOptions.Url)] = $"the cluster's URLs are the store's; set {storeSection.Path} (or --store) to nats://HOST:PORT[,HOST:PORT...] instead.",
            });
            nats.Replicas = flags.Replicas ?? nats.Replicas;
            errors.AddRange(HeraldConfiguration.Keyed(natsSection, nats.Problems()));
            store = store with { Replicas = nats.Replicas };
        }

        errors.AddRange(HeraldConfiguration.Keyed(section, broker.Problems()));
        if (errors.Count > 0)
        {
            var where = configFile is null ? "" : $" (from {configFile}, {VariablePrefix}… variables and flags)";
            throw new CliException($"The broker's configuration{where} has {errors.Count} problem{(errors.Count == 1 ? "" : "s")}; nothing was started:{Environment.NewLine}  {string.Join(Environment.NewLine + "  ", errors)}", ExitCodes.UserError);
        }

        // Checked above: binding again onto the stores' own options objects cannot fail.
        return (broker, store with
        {
            ConfigureSqlite = options => HeraldConfiguration.Bind(sqliteSection, options, new List<string>(), Skip(nameof(SqliteStoreOptions.DatabasePath))),
            ConfigureNats = options => HeraldConfiguration.Bind(natsSection, options, new List<string>(), Skip(nameof(NatsStoreOptions.Url))),
        });
    }

    private static Dictionary<string, string?> Skip(string key) => new(StringComparer.OrdinalIgnoreCase) { [key] = null };

    private static IConfigurationRoot Read(CliEnvironment environment, string? configFile)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is not null)
        {
            var path = environment.FullPath(configFile);
            if (!File.Exists(path))
            {
                throw new CliException($"The configuration file {path} does not exist. Pass an existing JSON file with --config, or leave --config out to use the defaults.", ExitCodes.UserError);
            }

            builder.AddJsonFile(path, optional: false, reloadOnChange: false);
        }

        // Herald__Nats__AckWait is Herald:Nats:AckWait, as .NET's own environment variable provider reads it.
        builder.AddInMemoryCollection(environment.VariablesStartingWith(VariablePrefix)
            .Select(v => KeyValuePair.Create(v.Key.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal), (string?)v.Value)));
        try
        {
            return builder.Build();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or JsonException or IOException)
        {
            throw new CliException($"The configuration file {environment.FullPath(configFile!)} cannot be read: {e.InnerException?.Message ?? e.Message} Fix the file (it is JSON with a \"{HeraldConfiguration.Section}\" object) and run the command again.", ExitCodes.UserError, e);
        }
    }
}
