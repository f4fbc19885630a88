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

        // EXPLAIN QUERY PLAN's fourth column describes each step.
        var plan = await SqliteFile.ReadTextAsync(factory.DatabasePath, "EXPLAIN QUERY PLAN " + SqliteEventStore.SequenceBoundsSql, column: 3);

        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN events", StringComparison.Ordinal));
        Assert.Equal(2, plan.Count(step => step.StartsWith("SEARCH events", StringComparison.Ordinal)));
    }

    public static TheoryData<string, string> QueueStatements => new()
    {
        { nameof(SqliteEventStore.DueDeliveriesSql), SqliteEventStore.DueDeliveriesSql },
        { nameof(SqliteEventStore.NextDueSql), SqliteEventStore.NextDueSql },
        { nameof(SqliteEventStore.RemoveSubscriptionSql), SqliteEventStore.RemoveSubscriptionSql },
    };

    [Theory]
    [MemberData(nameof(QueueStatements))]
    public async Task ASubscriptionsQueue_IsReadOffThePendingIndex_WithoutAScanOrASort(string statement, string sql)
    {
        await using var factory = new SqliteStoreFactory();
        await using (await factory.OpenAsync())
        {
        }

        var plan = await SqliteFile.ReadTextAsync(factory.DatabasePath, "EXPLAIN QUERY PLAN " + sql, column: 3);

        Assert.True(plan.Count > 0, statement);
        Assert.Contains(plan, step => step.StartsWith("SEARCH", StringComparison.Ordinal) && step.Contains("INDEX deliveries_pending (subscription_id=?", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN", StringComparison.Ordinal) || step.Contains("TEMP B-TREE", StringComparison.Ordinal));
    }
}
