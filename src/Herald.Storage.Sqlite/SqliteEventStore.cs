using System.Collections.Concurrent;
using System.Globalization;
using Herald.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, for one broker process. Writes go through one group-committing
/// writer (concurrent publishes and settlements share one fsync); reads use short-lived connections of their own.
/// Each open delivery queue keeps its leases in memory and is handed freshly committed deliveries without reading
/// the file; the file is read only for a backlog, due retries and what a restart left behind. Times are Unix
/// milliseconds on the injected <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// Recovery: leases live in memory, so after a crash every delivery that was not settled is simply pending again and
/// due at once; an attempt that was under way when the broker died is made again with the same attempt number.
/// </remarks>
public sealed partial class SqliteEventStore : IEventStore, IAppStore, IDeadLetterStore, IRetentionStore, IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly SqliteStoreOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<string, SqliteDeliveryQueue> _queues = new(StringComparer.Ordinal);
    private SqliteConnection? _writeConnection;
    private GroupCommitWriter? _writer;
    private WalCheckpointer? _checkpointer;
    private int _disposed;

    /// <summary>Creates a store over the file <see cref="SqliteStoreOptions.DatabasePath"/>, on the system clock.</summary>
    public SqliteEventStore(SqliteStoreOptions options)
        : this(options, TimeProvider.System)
    {
    }

    /// <summary>Creates a store over the file <see cref="SqliteStoreOptions.DatabasePath"/>, keeping time on <paramref name="timeProvider"/>.</summary>
    public SqliteEventStore(SqliteStoreOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (options.Validate() is { } problems)
        {
            throw new ArgumentException(problems, nameof(options));
        }

        _options = options;
        _timeProvider = timeProvider;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = options.DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    private GroupCommitWriter Writer => _writer ?? throw new InvalidOperationException("The SQLite store is not initialised; call InitializeAsync first.");

    /// <inheritdoc/>
    public async ValueTask InitializeAsync(CancellationToken cancellationToken = default)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(_options.DatabasePath));
        if (!string.IsNullOrEmpty(folder))
        {
            Directory.CreateDirectory(folder);
        }

        try
        {
            _writeConnection = new SqliteConnection(_connectionString);
            await _writeConnection.OpenAsync(cancellationToken).ConfigureAwait(false);
            Execute(_writeConnection, null, "PRAGMA journal_mode=WAL; PRAGMA synchronous=" + (_options.SynchronousFull ? "FULL" : "NORMAL") + "; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000; PRAGMA wal_autocheckpoint=0;");
            using (var transaction = _writeConnection.BeginTransaction())
            {
                var older = IsOlderFile(_writeConnection, transaction);
                var uncounted = !Has(_writeConnection, transaction, "table", "subscription_counts");
                Execute(_writeConnection, transaction, Schema.Create);
                AddMissingColumns(_writeConnection, transaction);
                if (older)
                {
                    Execute(_writeConnection, transaction, "UPDATE deliveries SET state = 0, due_at = 0 WHERE state = 1");
                }

                if (uncounted)
                {
                    Execute(_writeConnection, transaction, Schema.CountDeliveries);
                }

                DropReplacedIndexes(_writeConnection, transaction);

                transaction.Commit();
            }
        }
        catch (SqliteException ex)
        {
            throw new StoreUnavailableException($"Cannot open the SQLite store at '{_options.DatabasePath}': {ex.Message}", ex);
        }

        var checkpointConnection = new SqliteConnection(_connectionString);
        try
        {
            await checkpointConnection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex)
        {
            await checkpointConnection.DisposeAsync().ConfigureAwait(false);
            throw new StoreUnavailableException($"Cannot open the SQLite store at '{_options.DatabasePath}': {ex.Message}", ex);
        }

        _checkpointer = new WalCheckpointer(checkpointConnection);
        _writer = new GroupCommitWriter(_writeConnection, _options.WriteQueueCapacity, _checkpointer.Committed);
    }

    /// <inheritdoc/>
    public async ValueTask<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) == 1;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    /// <remarks>Idempotent: a host that registers the store under several interfaces disposes it once per registration.</remarks>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        foreach (var queue in _queues.Values)
        {
            await queue.DisposeAsync().ConfigureAwait(false);
        }

        if (_writer is not null)
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
        }

        if (_checkpointer is not null)
        {
            await _checkpointer.DisposeAsync().ConfigureAwait(false);
        }

        if (_writeConnection is not null)
        {
            await _writeConnection.DisposeAsync().ConfigureAwait(false);
        }

        CompleteWatchers();
    }

    private long NowMs => _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// The first whole millisecond at or after <paramref name="delay"/> from now: a delivery due then is never
    /// attempted before its delay has passed (due times are compared with the truncated clock).
    /// </summary>
    internal long DueMs(TimeSpan delay)
    {
        var ticks = (_timeProvider.GetUtcNow() + (delay > TimeSpan.Zero ? delay : TimeSpan.Zero) - DateTimeOffset.UnixEpoch).Ticks;
        return (ticks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
    }

    private async ValueTask<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> write, CancellationToken cancellationToken)
    {
        try
        {
            return await Writer.WriteAsync(write, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex)
        {
            throw new StoreUnavailableException($"The SQLite store could not write: {ex.Message}", ex);
        }
    }

    private async ValueTask<SqliteConnection> OpenReadAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (SqliteException ex)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new StoreUnavailableException($"The SQLite store could not be read: {ex.Message}", ex);
        }
    }

    /// <summary>Runs a read on a connection of its own, turning SQLite failures into <see cref="StoreUnavailableException"/>.</summary>
    private async ValueTask<T> ReadAsync<T>(Func<SqliteConnection, CancellationToken, ValueTask<T>> read, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await read(connection, cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex)
        {
            throw new StoreUnavailableException($"The SQLite store could not be read: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Whether the file was made by a Herald that kept leases in the file (before <c>deliveries_queue</c>, which
    /// <c>deliveries_pending</c> replaced): it has deliveries but neither queue index, and its rows marked in flight
    /// (state 1) must be made pending and due at once.
    /// </summary>
    private static bool IsOlderFile(SqliteConnection connection, SqliteTransaction transaction) =>
        Has(connection, transaction, "table", "deliveries")
        && !Has(connection, transaction, "index", "deliveries_queue")
        && !Has(connection, transaction, "index", "deliveries_pending");

    /// <summary>Whether the file has the table or index (<paramref name="type"/>) <paramref name="name"/>.</summary>
    private static bool Has(SqliteConnection connection, SqliteTransaction transaction, string type, string name)
    {
        using var probe = Command(connection, transaction, "SELECT COUNT(*) FROM sqlite_master WHERE type = $type AND name = $name", ("$type", type), ("$name", name));
        return Convert.ToInt64(probe.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    /// <summary>Drops the indexes of older schemas (<see cref="Schema.ReplacedIndexes"/>) that a file still has; nothing when it has none.</summary>
    private static void DropReplacedIndexes(SqliteConnection connection, SqliteTransaction transaction)
    {
        foreach (var index in Schema.ReplacedIndexes)
        {
            Execute(connection, transaction, $"DROP INDEX IF EXISTS {index}");
        }
    }

    /// <summary>Adds the columns a database made by an older Herald lacks (<see cref="Schema.AddedColumns"/>).</summary>
    private static void AddMissingColumns(SqliteConnection connection, SqliteTransaction transaction)
    {
        foreach (var (table, column, definition) in Schema.AddedColumns)
        {
            using var probe = Command(connection, transaction, "SELECT COUNT(*) FROM pragma_table_info($table) WHERE name = $column", ("$table", table), ("$column", column));
            if (Convert.ToInt64(probe.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0)
            {
                Execute(connection, transaction, $"ALTER TABLE {table} ADD COLUMN {column} {definition}");
            }
        }
    }

    private static int Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(connection, transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static long ToUnixMs(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    private static DateTimeOffset FromUnixMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
