-- Card attempts from the hosted payment page, and what the page and the sweepers need.

-- The hosted page's current single-use form token; replaced whenever an attempt starts,
-- so a second submit of the same form finds it gone.
ALTER TABLE payments ADD COLUMN form_token TEXT NOT NULL DEFAULT '';
-- When an AUTHORIZED payment expires unless captured.
ALTER TABLE payments ADD COLUMN capture_before INTEGER;
CREATE INDEX payments_by_capture_deadline ON payments (capture_before) WHERE status = 'AUTHORIZED';

CREATE TABLE attempts (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL REFERENCES payments (id),
    number INTEGER NOT NULL,
    status TEXT NOT NULL,
    card_brand TEXT NOT NULL,
    card_last4 TEXT NOT NULL,
    card_exp_month INTEGER NOT NULL,
    card_exp_year INTEGER NOT NULL,
    decline_code TEXT,
    decline_message TEXT,
    three_ds_required INTEGER NOT NULL,
    three_ds_result TEXT,
    connector TEXT NOT NULL,
    connector_reference TEXT,
    challenge_token TEXT,
    next_poll_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (payment_id, number)
);
CREATE INDEX attempts_due_for_poll ON attempts (next_poll_at) WHERE status = 'PENDING';
