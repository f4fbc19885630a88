namespace Herald.Storage.Sqlite.Internal;

/// <summary>The database schema. States: 0 pending, 1 in flight, 2 delivered, 3 dead.</summary>
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
            id TEXT NOT NULL UNIQUE,
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
        CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (subscription_id, due_at) WHERE state IN (0, 1);
        CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (subscription_id, state);
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

    /// <summary>Columns added since the first schema, made in a database that lacks them: (table, column, definition).</summary>
    public static readonly (string Table, string Column, string Definition)[] AddedColumns =
    [
        ("events", "tracestate", "TEXT"),
    ];
}
