-- The webhook backlog of /metrics is counted from this index alone: its size is the
-- number of pending events, not of all events, so a count never reads the table.
CREATE INDEX events_pending ON events (delivery_status) WHERE delivery_status = 'PENDING';
