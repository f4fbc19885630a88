using System.Globalization;
using Herald.Broker.Storage;
using Herald.Storage.Sqlite.Internal;
using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. Writes go through one group-committing writer; reads use
/// short-lived connections of their own. Times are kept as Unix milliseconds.
/// </summary>
public sealed partial class SqliteEventStore : IEventStore, IAppStore, IDeadLetterStore, IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly SqliteStoreOptions _options;
    private SqliteConnection? _writeConnection;
    private GroupCommitWriter? _writer;

    /// <summary>Creates a store over the file <see cref="SqliteStoreOptions.DatabasePath"/>.</summary>
    public SqliteEventStore(SqliteStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
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
            Execute(_writeConnection, null, "PRAGMA journal_mode=WAL; PRAGMA synchronous=" + (_options.SynchronousFull ? "FULL" : "NORMAL") + "; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;");
            using (var transaction = _writeConnection.BeginTransaction())
            {
                Execute(_writeConnection, transaction, Schema.Create);
                transaction.Commit();
            }
        }
        catch (SqliteException ex)
        {
            throw new StoreUnavailableException($"Cannot open the SQLite store at '{_options.DatabasePath}': {ex.Message}", ex);
        }

        _writer = new GroupCommitWriter(_writeConnection, _options.WriteQueueCapacity);

        // A delivery left in flight by a crash is due again at once: the attempt may or may not have reached the app.
        await WriteAsync(
            (c, t) => Execute(c, t, "UPDATE deliveries SET state = 0, due_at = 0 WHERE state = 1"),
            cancellationToken).ConfigureAwait(false);
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
    public async ValueTask DisposeAsync()
    {
        if (_writer is not null)
        {
            await _writer.DisposeAsync().ConfigureAwait(false);
        }

        if (_writeConnection is not null)
        {
            await _writeConnection.DisposeAsync().ConfigureAwait(false);
        }
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
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
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
