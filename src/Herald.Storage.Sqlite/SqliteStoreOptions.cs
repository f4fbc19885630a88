namespace Herald.Storage.Sqlite;

/// <summary>Options of the SQLite store.</summary>
public sealed class SqliteStoreOptions
{
    /// <summary>The database file; created with its folder when missing.</summary>
    public required string DatabasePath { get; set; }

    /// <summary>
    /// Whether to fsync on every commit (<c>synchronous=FULL</c>). With WAL, NORMAL survives a process crash but may
    /// lose the last commits on power loss; FULL survives both. <value>true</value>
    /// </summary>
    public bool SynchronousFull { get; set; } = true;

    /// <summary>How many writes may wait for the writer before callers wait too. <value>4096</value></summary>
    public int WriteQueueCapacity { get; set; } = 4096;
}
