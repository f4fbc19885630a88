namespace Herald.Storage.Sqlite.Internal;

/// <summary>
/// The database schema. States: 0 pending, 1 in flight (only in files from before leases moved to memory), 2 delivered,
/// 3 dead. Each index is a write on the hot path, so there are few:
/// <list type="bullet">
/// <item>one index serves a subscription's queue: its pending deliveries by due time, and only those (a partial index, so a
/// delivered settlement removes the row's entry and adds none, and the index holds the backlog, not the retention);</item>
/// <item>a subscription's counts by state are a row of their own (<c>subscription_counts</c>), changed by each commit that
/// changes its deliveries (<see cref="DeliveryCountChanges"/>), so that reading them never reads the deliveries;</item>
/// <item>dead letters have a partial index of their own, written only when a delivery dies;</item>
/// <item>events have none but their sequence: they are numbered in the order they were accepted, so a time is found by
/// a binary search over the sequence (<c>SqliteEventStore.FirstSeqAtOrAfter</c>), a tenant's dead letters through their
/// deliveries, and an event's id, unique by construction (a UUIDv7 the broker makes), is never looked up.</item>
/// </list>
/// </summary>
internal static class Schema
{
    public const string Create = """
        CREATE TABLE IF NOT EXISTS apps (
            account TEXT NOT NULL,
            workspace TEXT NOT NULL,
            sender TEXT NOT NULL,
            app_id TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            link_nonce TEXT NOT NULL,
            token_hash TEXT NOT NULL,
            manifest_json TEXT NOT NULL,
            service_json TEXT NOT NULL,
            linked_at INTEGER NOT NULL,
            PRIMARY KEY (account, workspace, sender)
        );
        CREATE TABLE IF NOT EXISTS events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL,
            account TEXT NOT NULL,
            workspace TEXT NOT NULL,
            sender TEXT NOT NULL,
            key TEXT NOT NULL,
            subject TEXT NOT NULL,
            body BLOB NOT NULL,
            time INTEGER NOT NULL,
            traceparent TEXT,
            tracestate TEXT
        );
        CREATE TABLE IF NOT EXISTS deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            event_seq INTEGER NOT NULL REFERENCES events(seq),
            subscription_id TEXT NOT NULL,
            state INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            due_at INTEGER NOT NULL,
            dead_reason TEXT,
            dead_at INTEGER
        );
        CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries (event_seq);
        CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries (subscription_id, due_at) WHERE state = 0;
        CREATE INDEX IF NOT EXISTS deliveries_dead ON deliveries (dead_at, id) WHERE state = 3;
        CREATE TABLE IF NOT EXISTS attempts (
            delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
            attempt INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            duration_ms REAL NOT NULL,
            status INTEGER,
            error TEXT
        );
        CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts (delivery_id);
        CREATE TABLE IF NOT EXISTS subscription_counts (
            subscription_id TEXT PRIMARY KEY,
            pending INTEGER NOT NULL,
            delivered INTEGER NOT NULL,
            dead INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS idempotency (
            account TEXT NOT NULL,
            workspace TEXT NOT NULL,
            sender TEXT NOT NULL,
            key TEXT NOT NULL,
            event_id TEXT NOT NULL,
            deliveries INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (account, workspace, sender, key)
        );
        """;

    /// <summary>
    /// Indexes of older schemas that <see cref="Create"/> replaced: <c>deliveries_due</c> and <c>deliveries_state</c> (by
    /// <c>deliveries_queue</c>), <c>events_tenant</c> and <c>events_time</c> (by <c>deliveries_dead</c> and the event
    /// sequence), and <c>deliveries_queue</c>, which held every state's deliveries (by <c>deliveries_pending</c>).
    /// Dropped when a file that has them is opened, after the rows an older file marked in flight are made pending again.
    /// </summary>
    public static readonly string[] ReplacedIndexes = ["deliveries_due", "deliveries_state", "events_tenant", "events_time", "deliveries_queue"];

    /// <summary>
    /// Fills <c>subscription_counts</c> from the deliveries, once, in a file made before it (after its rows in flight were
    /// made pending): one read of every delivery, at the open that adds the table.
    /// </summary>
    public const string CountDeliveries = """
        INSERT INTO subscription_counts (subscription_id, pending, delivered, dead)
        SELECT subscription_id, SUM(state IN (0, 1)), SUM(state = 2), SUM(state = 3) FROM deliveries GROUP BY subscription_id
        """;

    /// <summary>Columns added since the first schema, made in a database that lacks them: (table, column, definition).</summary>
    public static readonly (string Table, string Column, string Definition)[] AddedColumns =
    [
        ("events", "tracestate", "TEXT"),
    ];
}
