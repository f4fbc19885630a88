using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite.Tests;

/// <summary>Reads a store's file directly, on a read-only connection of its own, as a test checks what it holds.</summary>
internal static class SqliteFile
{
    /// <summary>The text of column <paramref name="column"/> of every row <paramref name="sql"/> returns, in order.</summary>
    public static async Task<List<string>> ReadTextAsync(string databasePath, string sql, int column = 0)
    {
        await using var connection = new SqliteConnection($"Data Source={databasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var values = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetString(column));
        }

        return values;
    }
}
