-- The UNIQUE (payment_id, sequence) of events is an index on the same columns: this
-- second one only cost every event an extra write.
DROP INDEX events_by_payment;
