using Herald.Storage.Compliance;

namespace Herald.Storage.Sqlite.Tests;

/// <summary>Opens a SQLite store over a file in a fresh temp folder.</summary>
internal sealed class SqliteStoreFactory : IStoreFactory
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("herald-sqlite-test-");

    public string DatabasePath => Path.Combine(_folder.FullName, "herald.db");

    public async ValueTask<StoreHandle> OpenAsync(CancellationToken cancellationToken = default)
    {
        var store = new SqliteEventStore(new SqliteStoreOptions { DatabasePath = DatabasePath });
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
    protected override IStoreFactory CreateFactory() => new SqliteStoreFactory();
}

public sealed class SqliteDedupeTests : DedupeTests
{
    protected override IStoreFactory CreateFactory() => new SqliteStoreFactory();
}

public sealed class SqliteLeasingTests : LeasingTests
{
    protected override IStoreFactory CreateFactory() => new SqliteStoreFactory();
}

public sealed class SqliteOutcomeTests : OutcomeTests
{
    protected override IStoreFactory CreateFactory() => new SqliteStoreFactory();
}

public sealed class SqliteDeadLetterTests : DeadLetterTests
{
    protected override IStoreFactory CreateFactory() => new SqliteStoreFactory();
}

public sealed class SqliteRedriveTests : RedriveTests
{
    protected override IStoreFactory CreateFactory() => new SqliteStoreFactory();
}

public sealed class SqliteRecoveryTests : RecoveryTests
{
    protected override IStoreFactory CreateFactory() => new SqliteStoreFactory();
}

public sealed class SqliteReplayTests : ReplayTests
{
    protected override IStoreFactory CreateFactory() => new SqliteStoreFactory();
}

public sealed class SqlitePruningTests : PruningTests
{
    protected override IStoreFactory CreateFactory() => new SqliteStoreFactory();
}
