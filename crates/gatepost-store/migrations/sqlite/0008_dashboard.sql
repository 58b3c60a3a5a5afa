-- The dashboard's users, their sessions and one-time sign-in links, failed sign-ins (for
-- throttling) and the audit log (docs/reference/dashboard.md).

CREATE TABLE dashboard_users (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    -- Trimmed and lowercased; one user per address across merchants, so that signing in
    -- with an address and a password names exactly one dashboard.
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    -- Argon2id in PHC form; NULL for a user who signs in only by one-time links.
    password_hash TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX dashboard_users_by_merchant ON dashboard_users (merchant_id, created_at);

-- Only the SHA-256 of a session's cookie and of a link's token is kept.
CREATE TABLE dashboard_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES dashboard_users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX dashboard_sessions_by_user ON dashboard_sessions (user_id);
CREATE INDEX dashboard_sessions_by_last_seen ON dashboard_sessions (last_seen_at);

CREATE TABLE dashboard_sign_in_links (
    token_hash TEXT PRIMARY KEY,
    -- NULL for the link `serve` prints in sandbox mode while there is no merchant yet: it
    -- makes the first one, with its first admin.
    user_id TEXT REFERENCES dashboard_users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX dashboard_sign_in_links_by_expiry ON dashboard_sign_in_links (expires_at);

-- One row per failed sign-in and per thing it counts against: `email:<address>` and
-- `address:<client address>`. A sign-in is counted before its password is checked and
-- taken back (by its `attempt` id) when it succeeds.
CREATE TABLE dashboard_sign_in_failures (
    subject TEXT NOT NULL,
    at INTEGER NOT NULL,
    attempt TEXT NOT NULL
);
CREATE INDEX dashboard_sign_in_failures_by_subject ON dashboard_sign_in_failures (subject, at);
CREATE INDEX dashboard_sign_in_failures_by_time ON dashboard_sign_in_failures (at);
CREATE INDEX dashboard_sign_in_failures_by_attempt ON dashboard_sign_in_failures (attempt);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    user_id TEXT NOT NULL,
    -- Kept as it was when the action was taken: the user may be removed later.
    user_email TEXT NOT NULL,
    action TEXT NOT NULL,
    object_id TEXT,
    detail TEXT,
    at INTEGER NOT NULL
);
CREATE INDEX audit_log_by_merchant ON audit_log (merchant_id, id);

-- The dashboard's payment list filtered by status, newest first, without walking the
-- merchant's other payments.
CREATE INDEX payments_by_status ON payments (merchant_id, status, id);
