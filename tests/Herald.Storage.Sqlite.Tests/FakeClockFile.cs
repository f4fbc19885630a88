using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Herald.Storage.Sqlite.Tests;

/// <summary>A SQLite store's file in a temp folder of its own, opened on a fake clock the test moves; deleted with it.</summary>
internal sealed class FakeClockFile : IAsyncDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("herald-sqlite-clock-");

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));

    public string DatabasePath => Path.Combine(_folder.FullName, "herald.db");

    /// <summary>Opens a store over the file (again, after one was disposed), with <paramref name="dedupeWindow"/> when given.</summary>
    public async Task<SqliteEventStore> OpenAsync(TimeSpan? dedupeWindow = null)
    {
        var options = new SqliteStoreOptions { DatabasePath = DatabasePath };
        if (dedupeWindow is { } window)
        {
            options.DedupeWindow = window;
        }

        var store = new SqliteEventStore(options, Clock);
        await store.InitializeAsync();
        return store;
    }

    /// <summary>An event of <c>acme/dev</c> at the clock's time now.</summary>
    public HeraldEvent NewEvent() => new(Guid.CreateVersion7(), "acme", "dev", "vtex.sender", "k", "", "{}"u8.ToArray(), Clock.GetUtcNow(), null);

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
        return ValueTask.CompletedTask;
    }
}
