using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite.Tests;

public sealed class SqliteFileTests
{
    [Fact]
    public async Task Store_UsesWalJournalOnARealFile()
    {
        await using var factory = new SqliteStoreFactory();
        await using (await factory.OpenAsync())
        {
            await using var connection = new SqliteConnection($"Data Source={factory.DatabasePath}");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode";
            Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
        }

        Assert.True(File.Exists(factory.DatabasePath));
    }

    [Fact]
    public async Task Open_OnAPathThatCannotBeAFile_SaysSoAsStoreUnavailable()
    {
        var folder = Directory.CreateTempSubdirectory("herald-sqlite-test-");
        try
        {
            var store = new SqliteEventStore(new SqliteStoreOptions { DatabasePath = folder.FullName }, TimeProvider.System);
            var error = await Assert.ThrowsAsync<StoreUnavailableException>(async () => await store.InitializeAsync());
            Assert.Contains(folder.FullName, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
