using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace Herald.Storage.Sqlite.Internal;

/// <summary>
/// The single writer of a SQLite database. Writes queue on a bounded channel; the writer takes every write waiting
/// (up to <see cref="MaxBatch"/>) and commits them in one transaction, so concurrent publishes share one fsync.
/// A batch that fails is retried one write at a time, so one bad write cannot fail its neighbours. The delivery count
/// changes its writes gather (<see cref="Counts"/>) are written in the same transaction, just before it commits. Each
/// commit is measured (<see cref="StoreTelemetry"/>).
/// </summary>
internal sealed class GroupCommitWriter : IAsyncDisposable
{
    private const int MaxBatch = 256;

    private readonly SqliteConnection _connection;
    private readonly Channel<PendingWrite> _queue;
    private readonly Dictionary<string, PreparedStatement> _statements = new(StringComparer.Ordinal);
    private readonly Task _loop;

    private readonly Action _committed;

    public GroupCommitWriter(SqliteConnection connection, int capacity, Action committed)
    {
        _connection = connection;
        _committed = committed;
        // The writer waits on a thread of its own, and a queued write wakes it directly: a continuation on the thread
        // pool would wait behind every request and delivery already queued there, and each commit's fsync would hold
        // a pool thread. With synchronous continuations the wake is the queuing thread's (a writer waiting for room in a
        // full queue resumes on the writer's thread, only to await its commit).
        _queue = Channel.CreateBounded<PendingWrite>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = true,
        });
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop = stopped.Task;
        new Thread(() =>
        {
            try
            {
                Run();
                stopped.TrySetResult();
            }
            catch (Exception ex)
            {
                stopped.TrySetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "Herald SQLite writer",
        }.Start();
    }

    /// <summary>The delivery count changes of the transaction being written; only for use inside a write.</summary>
    public DeliveryCountChanges Counts { get; } = new();

    /// <summary>Queues <paramref name="write"/>; completes once its transaction has committed.</summary>
    public async ValueTask<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> write, CancellationToken cancellationToken = default)
    {
        var pending = new PendingWrite<T>(write);
        await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        return await pending.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// A hot statement prepared once on the writer's connection (<see cref="PreparedStatement"/>); bind every parameter
    /// before each run. Only for use inside a write, which runs on the writer.
    /// </summary>
    public PreparedStatement Prepared(string sql)
    {
        if (!_statements.TryGetValue(sql, out var statement))
        {
            statement = new PreparedStatement(_connection, sql);
            _statements[sql] = statement;
        }

        return statement;
    }

    private void Run()
    {
        var batch = new List<PendingWrite>(MaxBatch);
        while (WaitForWrites())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
            {
                batch.Add(next);
            }

            if (!TryCommit(batch, out var failure))
            {
                if (batch.Count == 1)
                {
                    batch[0].Fail(failure!);
                    continue;
                }

                foreach (var single in batch)
                {
                    if (!TryCommit([single], out var singleFailure))
                    {
                        single.Fail(singleFailure!);
                    }
                }
            }
        }
    }

    /// <summary>Blocks the writer's thread until a write is queued (true) or the queue is closed and empty (false).</summary>
    private bool WaitForWrites() => _queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult();

    private bool TryCommit(List<PendingWrite> batch, out Exception? failure)
    {
        failure = null;
        Counts.Clear();
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var transaction = _connection.BeginTransaction();
            foreach (var write in batch)
            {
                write.Execute(_connection, transaction);
            }

            Counts.Write(this);
            transaction.Commit();
        }
        catch (Exception ex)
        {
            failure = ex;
            return false;
        }

        _committed();
        var committed = Stopwatch.GetTimestamp();
        StoreTelemetry.CommitDuration.Record(Stopwatch.GetElapsedTime(started, committed).TotalSeconds);
        StoreTelemetry.CommitWrites.Record(batch.Count);
        var timeWrites = StoreTelemetry.WriteDuration.Enabled;
        foreach (var write in batch)
        {
            if (timeWrites)
            {
                StoreTelemetry.WriteDuration.Record(Stopwatch.GetElapsedTime(write.Queued, committed).TotalSeconds);
            }

            write.Complete();
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        foreach (var statement in _statements.Values)
        {
            statement.Dispose();
        }
    }

    private abstract class PendingWrite
    {
        /// <summary>When the write was queued (a <see cref="Stopwatch"/> timestamp).</summary>
        public long Queued { get; } = Stopwatch.GetTimestamp();

        public abstract void Execute(SqliteConnection connection, SqliteTransaction transaction);

        public abstract void Complete();

        public abstract void Fail(Exception exception);
    }

    private sealed class PendingWrite<T>(Func<SqliteConnection, SqliteTransaction, T> write) : PendingWrite
    {
        private T? _result;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Execute(SqliteConnection connection, SqliteTransaction transaction) => _result = write(connection, transaction);

        public override void Complete() => Completion.TrySetResult(_result!);

        public override void Fail(Exception exception) => Completion.TrySetException(exception);
    }
}
