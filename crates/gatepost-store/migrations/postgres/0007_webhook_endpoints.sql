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
    previous_secret_expires_at BIGINT,
    is_default BIGINT NOT NULL,
    -- The current run of failed attempts: when its first and its last were made, and how
    -- many there were.
    failing_since BIGINT,
    failing_until BIGINT,
    failing_attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_by_merchant ON webhook_endpoints (merchant_id, id);

-- Where each event goes, in order (`position`), and how its delivery there stands; the
-- payment's own URL has no endpoint. An event of an older version had one destination, its
-- URL, signed as the payment's own: it keeps its state, attempts and schedule.
CREATE TABLE event_destinations (
    event_id TEXT NOT NULL REFERENCES events (id),
    position BIGINT NOT NULL,
    endpoint_id TEXT,
    url TEXT NOT NULL,
    -- scheme://host[:port]/, whose attempts in flight are capped together.
    origin TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    last_attempt_at BIGINT,
    resend_requested BIGINT NOT NULL,
    PRIMARY KEY (event_id, position)
);
INSERT INTO event_destinations
    SELECT id, 0, NULL, webhook_url, substr(webhook_url, 1, 8 + strpos(substr(webhook_url, 9), '/')),
        delivery_status, delivery_attempts, next_attempt_at, last_attempt_at, resend_requested
    FROM events WHERE webhook_url IS NOT NULL;
CREATE INDEX event_destinations_due ON event_destinations (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
CREATE INDEX event_destinations_due_by_origin ON event_destinations (origin, next_attempt_at)
    WHERE next_attempt_at IS NOT NULL;

-- Events lose their one destination's delivery columns (and the index of those that are
-- due), and an event about an endpoint has no payment.
ALTER TABLE events DROP COLUMN webhook_url, DROP COLUMN delivery_attempts, DROP COLUMN next_attempt_at,
    DROP COLUMN last_attempt_at, DROP COLUMN resend_requested;
ALTER TABLE events ALTER COLUMN payment_id DROP NOT NULL, ALTER COLUMN sequence DROP NOT NULL;

ALTER TABLE deliveries ADD COLUMN position BIGINT NOT NULL DEFAULT 0, ADD COLUMN endpoint_id TEXT;
