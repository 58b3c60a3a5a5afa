-- Refunds, and the provider callbacks already received (each is applied once).

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    amount INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    failure_code TEXT,
    connector TEXT NOT NULL,
    connector_reference TEXT,
    next_poll_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX refunds_by_payment ON refunds (payment_id, id);
CREATE INDEX refunds_due_for_poll ON refunds (next_poll_at) WHERE status = 'PENDING';

-- One row per provider event id: a repeated callback finds its row and changes nothing.
-- result: applied (it moved or recorded something), ignored (stale or late), unknown
-- (no such attempt or refund).
CREATE TABLE provider_callbacks (
    connector TEXT NOT NULL,
    provider_event_id TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    result TEXT NOT NULL,
    times_received INTEGER NOT NULL,
    first_received_at INTEGER NOT NULL,
    last_received_at INTEGER NOT NULL,
    PRIMARY KEY (connector, provider_event_id)
);
