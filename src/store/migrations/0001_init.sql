-- nosey's state. One file per schema version; never edit a released migration.

-- Where the tailer is in Moodle's log: the gap-aware cursor as JSON.
CREATE TABLE cursor (
    source      TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- The outbox: one row per (log row, route). seq is the creation order, which is log order
-- within a route; id is the webhook-id, the same on every attempt.
CREATE TABLE deliveries (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    route            TEXT NOT NULL,
    log_id           INTEGER NOT NULL,
    eventname        TEXT NOT NULL,
    object           TEXT,
    ordering_key     TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    last_attempt_at  INTEGER,
    last_status      INTEGER,
    last_error       TEXT,
    finished_at      INTEGER,
    manual           INTEGER NOT NULL DEFAULT 0,
    headers          TEXT NOT NULL,
    body             BLOB NOT NULL
);
CREATE INDEX deliveries_pending ON deliveries (route, seq) WHERE status = 'pending';
CREATE INDEX deliveries_manual ON deliveries (route) WHERE manual = 1;
CREATE INDEX deliveries_finished ON deliveries (status, finished_at);
CREATE INDEX deliveries_route_status ON deliveries (route, status, seq);

-- Every attempt: when, how long, what came back.
CREATE TABLE attempts (
    delivery_seq  INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    started_at    INTEGER NOT NULL,
    duration_ms   INTEGER NOT NULL,
    status_code   INTEGER,
    error         TEXT,
    response      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_seq, n)
) WITHOUT ROWID;

-- The last copy of every record read, for rows that are gone by the time an event about them
-- is read (a deleted course is sent with its last copy).
CREATE TABLE records (
    tbl      TEXT NOT NULL,
    id       INTEGER NOT NULL,
    record   TEXT NOT NULL,
    seen_at  INTEGER NOT NULL,
    PRIMARY KEY (tbl, id)
) WITHOUT ROWID;

-- Per-route state set from the command line.
CREATE TABLE routes (
    name        TEXT PRIMARY KEY,
    paused      INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL
);

-- Counters (events skipped while disabled, …) and the control version that tells a running
-- nosey that the command line changed something (a retry, a pause).
CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('control_version', 0), ('skipped_disabled', 0);
