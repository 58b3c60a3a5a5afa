-- Merchants, payments, their events (the webhook outbox) and idempotency keys.
-- Times are Unix milliseconds; JSON documents are TEXT.

CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    api_key_hash TEXT NOT NULL UNIQUE,
    webhook_secret TEXT NOT NULL,
    previous_webhook_secret TEXT,
    previous_secret_expires_at INTEGER,
    default_webhook_url TEXT,
    webhook_ack_mode TEXT NOT NULL,
    allowed_return_hosts TEXT NOT NULL,
    connector TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    status TEXT NOT NULL,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    amount_captured INTEGER NOT NULL,
    amount_refunded INTEGER NOT NULL,
    reference TEXT,
    description TEXT,
    customer TEXT,
    metadata TEXT NOT NULL,
    capture TEXT NOT NULL,
    max_attempts INTEGER NOT NULL,
    attempts_remaining INTEGER NOT NULL,
    checkout_token TEXT NOT NULL UNIQUE,
    checkout_url TEXT NOT NULL,
    return_url TEXT,
    return_urls TEXT NOT NULL,
    return_method TEXT NOT NULL,
    webhook_url TEXT,
    livemode INTEGER NOT NULL,
    event_sequence INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX payments_by_merchant ON payments (merchant_id, id);
CREATE INDEX payments_by_reference ON payments (merchant_id, reference);
CREATE INDEX payments_by_expiry ON payments (expires_at) WHERE status = 'OPEN';

CREATE TABLE events (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    type TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    webhook_url TEXT,
    delivery_status TEXT NOT NULL,
    delivery_attempts INTEGER NOT NULL,
    next_attempt_at INTEGER,
    last_attempt_at INTEGER,
    UNIQUE (payment_id, sequence)
);
CREATE INDEX events_by_merchant ON events (merchant_id, id);
CREATE INDEX events_due ON events (next_attempt_at) WHERE delivery_status = 'PENDING';

CREATE TABLE idempotency_keys (
    merchant_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status INTEGER,
    response_content_type TEXT,
    response_body BLOB,
    created_at INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
