-- Webhook delivery: the attempts log, resends, and a due index that covers every event
-- with a next attempt (pending, leased to a worker, or resent after it ended).

DROP INDEX events_due;
CREATE INDEX events_due ON events (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX events_by_payment ON events (payment_id, sequence);
-- The next attempt was asked for by POST /v1/events/{id}/resend.
ALTER TABLE events ADD COLUMN resend_requested INTEGER NOT NULL DEFAULT 0;

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events (id),
    url TEXT NOT NULL,
    attempted_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    response_body TEXT NOT NULL,
    trigger TEXT NOT NULL
);
CREATE INDEX deliveries_by_event ON deliveries (event_id, id);
