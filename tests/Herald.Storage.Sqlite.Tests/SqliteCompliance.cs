using Herald.Storage.Compliance;

namespace Herald.Storage.Sqlite.Tests;

/// <summary>Opens a SQLite store over a file in a fresh temp folder, on the system clock.</summary>
internal sealed class SqliteStoreFactory(StoreFactoryOptions? options = null) : IStoreFactory
{
    private readonly StoreFactoryOptions _options = options ?? StoreFactoryOptions.Default;
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("herald-sqlite-test-");

    public string DatabasePath => Path.Combine(_folder.FullName, "herald.db");

    public async ValueTask<StoreHandle> OpenAsync(CancellationToken cancellationToken = default)
    {
        var store = new SqliteEventStore(new SqliteStoreOptions { DatabasePath = DatabasePath, DedupeWindow = _options.DedupeWindow }, TimeProvider.System);
        await store.InitializeAsync(cancellationToken);
        return new StoreHandle(store, store, store, store, store.DisposeAsync);
    }

    public ValueTask DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }
}

public sealed class SqliteAppendTests : AppendTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new SqliteStoreFactory(options);
}

public sealed class SqliteDedupeTests : DedupeTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new SqliteStoreFactory(options);
}

public sealed class SqliteLeasingTests : LeasingTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new SqliteStoreFactory(options);
}

public sealed class SqliteSettlementTests : SettlementTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new SqliteStoreFactory(options);
}

public sealed class SqliteDeadLetterTests : DeadLetterTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new SqliteStoreFactory(options);
}

public sealed class SqliteRedriveTests : RedriveTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new SqliteStoreFactory(options);
}

public sealed class SqliteRecoveryTests : RecoveryTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new SqliteStoreFactory(options);
}

public sealed class SqliteReplayTests : ReplayTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new SqliteStoreFactory(options);
}

public sealed class SqlitePruningTests : PruningTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new SqliteStoreFactory(options);
}

public sealed class SqliteSubscriptionLifecycleTests : SubscriptionLifecycleTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new SqliteStoreFactory(options);
}

public sealed class SqliteAppRegistryTests : AppRegistryTests
{
    protected override IStoreFactory CreateFactory(StoreFactoryOptions options) => new SqliteStoreFactory(options);
}
