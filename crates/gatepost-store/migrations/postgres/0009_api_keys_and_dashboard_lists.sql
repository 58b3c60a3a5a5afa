-- Several API keys per merchant (docs/reference/api.md#authentication), and the indexes
-- that let the dashboard's lists filter without walking a merchant's other rows
-- (docs/reference/dashboard.md).

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    -- The key's first characters (`sk_test_AbCd`), to tell keys apart; NULL for a key
    -- made before keys were listed, of which only the hash was ever kept.
    prefix TEXT,
    -- SHA-256 of the key: only this is stored.
    key_hash TEXT NOT NULL UNIQUE,
    description TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_by_merchant ON api_keys (merchant_id, id);

-- Each merchant's key so far becomes its first key. `merchants.api_key_hash` is no longer
-- read: SQLite cannot drop a UNIQUE column without copying the table, so both backends
-- keep it, filled with the merchant's first key's hash.
INSERT INTO api_keys (id, merchant_id, prefix, key_hash, description, created_at, revoked_at)
    SELECT 'key_' || substr(id, 5), id, NULL, api_key_hash, NULL, created_at, NULL FROM merchants;

CREATE INDEX events_by_status ON events (merchant_id, delivery_status, id);
CREATE INDEX events_by_type ON events (merchant_id, type, id);
CREATE INDEX event_destinations_by_endpoint ON event_destinations (endpoint_id, event_id);
CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint_id, attempted_at);

-- The dashboard's search by a customer's e-mail address (lowercased) and by a card's last 4
-- digits.
ALTER TABLE payments ADD COLUMN customer_email TEXT;
UPDATE payments SET customer_email = lower(customer::json ->> 'email') WHERE customer IS NOT NULL;
CREATE INDEX payments_by_customer_email ON payments (merchant_id, customer_email, id) WHERE customer_email IS NOT NULL;
CREATE INDEX attempts_by_last4 ON attempts (card_last4, payment_id);

-- Lists filtered by reference or by payment answer their newest rows from one index, with
-- no sort: both equalities, then the id the list is ordered by.
DROP INDEX payments_by_reference;
CREATE INDEX payments_by_reference ON payments (merchant_id, reference, id);
CREATE INDEX events_by_merchant_payment ON events (merchant_id, payment_id, id);
