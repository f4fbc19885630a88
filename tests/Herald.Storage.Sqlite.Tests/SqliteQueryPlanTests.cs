using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite.Tests;

/// <summary>
/// Statements that run while the writer holds every publish behind it must read what they need off an index or the
/// end of a key, never scan a table that grows with every event: checked on SQLite's own query plan.
/// </summary>
public sealed class SqliteQueryPlanTests
{
    [Fact]
    public async Task TheSequenceBounds_ReadBothEndsOfTheKey_WithoutScanningTheEvents()
    {
        await using var factory = new SqliteStoreFactory();
        await using (var handle = await factory.OpenAsync())
        {
            await handle.Events.AppendAsync(new HeraldEvent(Guid.CreateVersion7(), "acme", "dev", "vtex.sender", "k", "", "{}"u8.ToArray(), DateTimeOffset.UtcNow, null), [], null);
        }

        await using var connection = new SqliteConnection($"Data Source={factory.DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + SqliteEventStore.SequenceBoundsSql;
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(3));
            }
        }

        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN events", StringComparison.Ordinal));
        Assert.Equal(2, plan.Count(step => step.StartsWith("SEARCH events", StringComparison.Ordinal)));
    }
}
