-- A merchant's webhook endpoints, and an event's delivery kept per destination
-- (docs/reference/webhooks.md#endpoints).

CREATE TABLE webhook_endpoints (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    url TEXT NOT NULL,
    -- Event type names, or *, separated by spaces.
    enabled_events TEXT NOT NULL,
    description TEXT,
    ack_mode TEXT NOT NULL,
    status TEXT NOT NULL,
    disabled_reason TEXT,
    -- NULL for the default endpoint, which signs with its merchant's secret.
    secret TEXT,
    previous_secret TEXT,
    previous_secret_expires_at INTEGER,
    is_default INTEGER NOT NULL,
    -- The current run of failed attempts: when its first and its last were made, and how
    -- many there were.
    failing_since INTEGER,
    failing_until INTEGER,
    failing_attempts INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_by_merchant ON webhook_endpoints (merchant_id, id);

-- Events lose their one destination's delivery columns, and an event about an endpoint
-- has no payment. SQLite changes a column's constraints only by copying its table; the
-- attempts log, which refers to events, is copied with it.
CREATE TABLE events_v7 (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    payment_id TEXT REFERENCES payments (id),
    type TEXT NOT NULL,
    sequence INTEGER,
    body BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    -- PENDING until every destination ended, then FAILED if any failed; SKIPPED without one.
    delivery_status TEXT NOT NULL,
    UNIQUE (payment_id, sequence)
);
INSERT INTO events_v7 (id, merchant_id, payment_id, type, sequence, body, created_at, delivery_status)
    SELECT id, merchant_id, payment_id, type, sequence, body, created_at, delivery_status FROM events;

-- Where each event goes, in order (`position`), and how its delivery there stands; the
-- payment's own URL has no endpoint. An event of an older version had one destination, its
-- URL, signed as the payment's own: it keeps its state, attempts and schedule.
CREATE TABLE event_destinations (
    event_id TEXT NOT NULL REFERENCES events_v7 (id),
    position INTEGER NOT NULL,
    endpoint_id TEXT,
    url TEXT NOT NULL,
    -- scheme://host[:port]/, whose attempts in flight are capped together.
    origin TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER,
    last_attempt_at INTEGER,
    resend_requested INTEGER NOT NULL,
    PRIMARY KEY (event_id, position)
);
INSERT INTO event_destinations
    SELECT id, 0, NULL, webhook_url, substr(webhook_url, 1, 8 + instr(substr(webhook_url, 9), '/')),
        delivery_status, delivery_attempts, next_attempt_at, last_attempt_at, resend_requested
    FROM events WHERE webhook_url IS NOT NULL;

CREATE TABLE deliveries_v7 (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events_v7 (id),
    position INTEGER NOT NULL,
    endpoint_id TEXT,
    url TEXT NOT NULL,
    attempted_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    response_body TEXT NOT NULL,
    trigger TEXT NOT NULL
);
INSERT INTO deliveries_v7
    SELECT id, event_id, 0, NULL, url, attempted_at, duration_ms, status_code, error, response_body, trigger
    FROM deliveries;

DROP TABLE deliveries;
DROP TABLE events;
ALTER TABLE events_v7 RENAME TO events;
ALTER TABLE deliveries_v7 RENAME TO deliveries;

CREATE INDEX events_by_merchant ON events (merchant_id, id);
CREATE INDEX events_pending ON events (delivery_status) WHERE delivery_status = 'PENDING';
CREATE INDEX deliveries_by_event ON deliveries (event_id, id);
-- Every destination with a next attempt: pending, leased to a worker, or resent.
CREATE INDEX event_destinations_due ON event_destinations (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX event_destinations_due_by_origin ON event_destinations (origin, next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;
