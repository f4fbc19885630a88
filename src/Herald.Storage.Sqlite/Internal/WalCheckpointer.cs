using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite.Internal;

/// <summary>
/// Copies the write-ahead log back into the database file on a connection of its own, after every
/// <see cref="CommitsPerCheckpoint"/> commits, so the writer never does it inside a commit (SQLite's automatic
/// checkpoint runs in the committing connection and holds up every publish queued behind it). The checkpoints are
/// PASSIVE: they never block the writer or readers, and the log is reused from its start once it is all copied.
/// </summary>
internal sealed class WalCheckpointer : IAsyncDisposable
{
    /// <summary>Commits between checkpoints: about SQLite's default of 1000 log pages at Herald's usual commit size.</summary>
    public const int CommitsPerCheckpoint = 64;

    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _due = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _commits;

    public WalCheckpointer(SqliteConnection connection)
    {
        _connection = connection;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Counts a commit; every <see cref="CommitsPerCheckpoint"/> commits a checkpoint is due.</summary>
    public void Committed()
    {
        if (Interlocked.Increment(ref _commits) % CommitsPerCheckpoint == 0 && _due.CurrentCount == 0)
        {
            try
            {
                _due.Release();
            }
            catch (SemaphoreFullException)
            {
                // A checkpoint is already due.
            }
        }
    }

    private async Task RunAsync()
    {
        while (true)
        {
            try
            {
                await _due.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                using var command = _connection.CreateCommand();
                command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
                command.ExecuteNonQuery();
            }
            catch (SqliteException)
            {
                // A checkpoint that cannot run now (busy, disk full) is tried again after the next commits; the log
                // keeps every commit meanwhile.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        _due.Dispose();
    }
}
