namespace Herald.Storage.Sqlite.Internal;

/// <summary>
/// The database schema. States: 0 pending, 1 in flight (only in files from before leases moved to memory), 2 delivered,
/// 3 dead. Each index is a write on the hot path, so there are few: one index serves a subscription's queue (pending by
/// due time), its counts (by state) and its dead letters; an event's id is unique by construction (a UUIDv7 the broker
/// makes) and is never looked up, so it has no index.
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
        CREATE INDEX IF NOT EXISTS events_tenant ON events (account, workspace, seq);
        CREATE INDEX IF NOT EXISTS events_time ON events (time);
        CREATE INDEX IF NOT EXISTS deliveries_event ON deliveries (event_seq);
        CREATE INDEX IF NOT EXISTS deliveries_queue ON deliveries (subscription_id, state, due_at);
        CREATE TABLE IF NOT EXISTS attempts (
            delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
            attempt INTEGER NOT NULL,
            started_at INTEGER NOT NULL,
            duration_ms REAL NOT NULL,
            status INTEGER,
            error TEXT
        );
        CREATE INDEX IF NOT EXISTS attempts_delivery ON attempts (delivery_id);
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
    /// Indexes of older schemas that <see cref="Create"/> replaced (by <c>deliveries_queue</c>): dropped when a file that
    /// has them is opened, after its rows marked in flight are made pending again with their help.
    /// </summary>
    public static readonly string[] ReplacedIndexes = ["deliveries_due", "deliveries_state"];

    /// <summary>Columns added since the first schema, made in a database that lacks them: (table, column, definition).</summary>
    public static readonly (string Table, string Column, string Definition)[] AddedColumns =
    [
        ("events", "tracestate", "TEXT"),
    ];
}
