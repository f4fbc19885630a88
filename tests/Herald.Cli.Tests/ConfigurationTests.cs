using System.Text.Json;
using Herald.Cli.Hosting;
using Herald.Storage.Nats;
using Herald.Storage.Sqlite;

namespace Herald.Cli.Tests;

/// <summary><c>herald up --config FILE</c>, <c>Herald__…</c> variables and flags: what sets the broker's options, and what a bad value gets.</summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    private string WriteConfig(object herald)
    {
        var path = Path.Combine(_cli.WorkingDirectory, "herald.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new { Herald = herald }));
        return path;
    }

    private (Herald.Broker.BrokerOptions Broker, BrokerStore Store) Load(string? config, BrokerConfiguration.Flags? flags = null) =>
        BrokerConfiguration.Load(_cli.Environment(TextWriter.Null, TextWriter.Null), config, flags ?? new BrokerConfiguration.Flags(null, null, null, null));

    [Fact]
    public void File_SetsTheBrokersOptions_VariablesWinOverIt_AndFlagsOverBoth()
    {
        var config = WriteConfig(new
        {
            Url = "http://127.0.0.1:9001",
            DataDirectory = "from-file",
            MaxBodyBytes = 2048,
            PublishBurst = 7,
            LeaseDuration = "00:01:00",
            AllowedEndpointHosts = new[] { "apps.internal", "10.0.0.7" },
            Store = "nats://127.0.0.1:4222,nats://127.0.0.1:4223",
        });
        _cli.Variables["Herald__MaxBodyBytes"] = "4096";
        _cli.Variables["HERALD__PUBLISHPERMITSPERSECOND"] = "50";

        var (fromFile, fileStore) = Load(config);
        var (fromFlags, flagStore) = Load(config, new BrokerConfiguration.Flags("http://127.0.0.1:9002", "from-flag", "sqlite", null));

        Assert.Equal("http://127.0.0.1:9001", fromFile.Url);
        Assert.Equal(Path.Combine(_cli.WorkingDirectory, "from-file"), fromFile.DataDirectory);
        Assert.Equal(4096, fromFile.MaxBodyBytes);
        Assert.Equal(50, fromFile.PublishPermitsPerSecond);
        Assert.Equal(7, fromFile.PublishBurst);
        Assert.Equal(TimeSpan.FromMinutes(1), fromFile.LeaseDuration);
        Assert.Equal(["apps.internal", "10.0.0.7"], fromFile.AllowedEndpointHosts);
        Assert.Equal(("nats://127.0.0.1:4222,nats://127.0.0.1:4223", 2), (fileStore.NatsUrls, fileStore.Replicas));

        Assert.Equal("http://127.0.0.1:9002", fromFlags.Url);
        Assert.Equal(Path.Combine(_cli.WorkingDirectory, "from-flag"), fromFlags.DataDirectory);
        Assert.Null(flagStore.NatsUrls);
        Assert.Equal(4096, fromFlags.MaxBodyBytes);
    }

    [Fact]
    public void StoreSections_SetTheStoresOptions()
    {
        var config = WriteConfig(new
        {
            Store = "nats://127.0.0.1:4222",
            Nats = new { AckWait = "00:02:00", Prefix = "blue", Replicas = 1, MaxAckPending = 64 },
            Sqlite = new { SynchronousFull = false, QueueMemoryCapacity = 16 },
        });
        _cli.Variables["Herald__Nats__FanOutConcurrency"] = "8";

        var (_, store) = Load(config);
        var nats = new NatsStoreOptions { Url = "" };
        store.ConfigureNats(nats);
        var sqlite = new SqliteStoreOptions { DatabasePath = "x.db" };
        store.ConfigureSqlite(sqlite);

        Assert.Equal((TimeSpan.FromMinutes(2), "blue", 64, 8), (nats.AckWait, nats.Prefix, nats.MaxAckPending, nats.FanOutConcurrency));
        Assert.Equal(1, store.Replicas);
        Assert.Equal((false, 16), (sqlite.SynchronousFull, sqlite.QueueMemoryCapacity));
        Assert.Equal(3, Load(config, new BrokerConfiguration.Flags(null, null, null, 3)).Store.Replicas);
    }

    [Fact]
    public void BadValues_AreAllNamedInOneMessage_WithTheirKeyRuleAndValue()
    {
        var config = WriteConfig(new
        {
            MaxBodyBytes = 10,
            LeaseDuration = "soon",
            MaxBodyByte = 5,
            PublishBurst = "many",
            AllowedEndpointHosts = new[] { "http://apps.internal:80" },
            Store = "nats://127.0.0.1:4222",
            Nats = new { AckWait = "00:00:00.500", Url = "nats://elsewhere:4222", Shards = 3, DedupeWindow = "2.00:00:00", Retention = "3.00:00:00" },
            Sqlite = new { DatabasePath = "/tmp/other.db" },
        });

        var error = Assert.Throws<CliException>(() => Load(config));

        Assert.Equal(ExitCodes.UserError, error.ExitCode);
        Assert.Contains("has 10 problems; nothing was started", error.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:MaxBodyBytes must be from 1024 to 67108864; found 10.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:LeaseDuration must be a duration, [d.]hh:mm:ss such as 00:00:30; found 'soon'.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:MaxBodyByte is not a Herald option; the keys under Herald are ", error.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:PublishBurst must be a whole number; found 'many'.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:AllowedEndpointHosts must list host names or addresses, without scheme or port; found 'http://apps.internal:80'.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:Nats:AckWait must be at least 1 second; found 00:00:00.5", error.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:Nats:DedupeWindow must be positive and at most half of Retention (1.12:00:00): a key is remembered through its last event, which must outlive the window; found 2.00:00:00.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:Nats:Url cannot be set: the cluster's URLs are the store's; set Herald:Store", error.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:Nats:Shards is not a Herald option; the keys under Herald:Nats are AckWait, DedupeWindow, FanOutConcurrency, MaxAckPending, Prefix, PublishTimeout, Replicas, Retention.", error.Message, StringComparison.Ordinal);
        Assert.Contains("Herald:Sqlite:DatabasePath cannot be set", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadVariable_IsNamedAsItsKey()
    {
        _cli.Variables["Herald__PruneInterval"] = "00:00:00";

        var error = Assert.Throws<CliException>(() => Load(null));

        Assert.Contains("Herald:PruneInterval must be a positive duration; found 00:00:00.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_WithABadConfigFile_SaysWhatIsWrong_AndStartsNothing()
    {
        var config = WriteConfig(new { MaxBodyBytes = 10, Store = "postgres://127.0.0.1:5432" });

        var result = await _cli.RunAsync("up", "--port", "0", "--config", config, "--data", Path.Combine(_cli.Root, "data"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"The broker's configuration (from {config}, Herald__… variables and flags) has 2 problems", result.Error, StringComparison.Ordinal);
        Assert.Contains("Herald:Store must be 'sqlite' or NATS URLs with ports", result.Error, StringComparison.Ordinal);
        Assert.Contains("Herald:MaxBodyBytes must be from 1024", result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_cli.Root, "data")), "a refused up must not make its data folder");
        Assert.False(File.Exists(Path.Combine(_cli.Home, "config.json")), "a refused up must not record its URL");
    }

    [Theory]
    [InlineData("missing.json", "does not exist")]
    [InlineData("broken.json", "cannot be read")]
    public async Task Up_WithAConfigFileThatCannotBeRead_SaysWhich(string name, string message)
    {
        File.WriteAllText(Path.Combine(_cli.WorkingDirectory, "broken.json"), """{"Herald": {"MaxBodyBytes": """);

        var result = await _cli.RunAsync("up", "--port", "0", "--config", name);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"The configuration file {Path.Combine(_cli.WorkingDirectory, name)} {message}", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_WithAConfigFile_RunsTheBrokerWithItsOptions()
    {
        var broker = new BrokerFixture(["--config", "herald.json"]);
        File.WriteAllText(Path.Combine(broker.Cli.WorkingDirectory, "herald.json"),
            JsonSerializer.Serialize(new { Herald = new { DataDirectory = broker.DataDirectory, MaxBodyBytes = 2048 } }));
        broker.Cli.Variables["Herald__MaxBodyBytes"] = "4096";
        await broker.InitializeAsync();
        try
        {
            var small = await broker.Cli.RunAsync("send", "sized", "--data", Body(3000));
            var large = await broker.Cli.RunAsync("send", "sized", "--data", Body(5000));

            Assert.True(File.Exists(Path.Combine(broker.DataDirectory, "admin.token")), "the data folder is the configured one");
            Assert.Equal(0, small.ExitCode);
            Assert.NotEqual(0, large.ExitCode);
            Assert.Contains("larger than the broker's limit of 4096 bytes", large.Error, StringComparison.Ordinal);
        }
        finally
        {
            await broker.DisposeAsync();
        }
    }

    private static string Body(int bytes) => JsonSerializer.Serialize(new { text = new string('x', bytes - 11) });
}
