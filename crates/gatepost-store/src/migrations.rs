//! Schema versions, embedded in the binary and applied in order on start.

/// One schema step; `version` is recorded in `schema_migrations` once applied.
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) sql: &'static str,
}

pub(crate) const SQLITE: &[Migration] = &[
    Migration { version: 1, sql: include_str!("../migrations/sqlite/0001_payments.sql") },
    Migration { version: 2, sql: include_str!("../migrations/sqlite/0002_attempts.sql") },
    Migration { version: 3, sql: include_str!("../migrations/sqlite/0003_deliveries.sql") },
    Migration { version: 4, sql: include_str!("../migrations/sqlite/0004_refunds_and_callbacks.sql") },
    Migration { version: 5, sql: include_str!("../migrations/sqlite/0005_pending_events.sql") },
    Migration { version: 6, sql: include_str!("../migrations/sqlite/0006_one_index_per_payment_sequence.sql") },
    Migration { version: 7, sql: include_str!("../migrations/sqlite/0007_webhook_endpoints.sql") },
    Migration { version: 8, sql: include_str!("../migrations/sqlite/0008_dashboard.sql") },
    Migration { version: 9, sql: include_str!("../migrations/sqlite/0009_api_keys_and_dashboard_lists.sql") },
];

pub(crate) const POSTGRES: &[Migration] = &[
    Migration { version: 1, sql: include_str!("../migrations/postgres/0001_payments.sql") },
    Migration { version: 2, sql: include_str!("../migrations/postgres/0002_attempts.sql") },
    Migration { version: 3, sql: include_str!("../migrations/postgres/0003_deliveries.sql") },
    Migration { version: 4, sql: include_str!("../migrations/postgres/0004_refunds_and_callbacks.sql") },
    Migration { version: 5, sql: include_str!("../migrations/postgres/0005_pending_events.sql") },
    Migration { version: 6, sql: include_str!("../migrations/postgres/0006_one_index_per_payment_sequence.sql") },
    Migration { version: 7, sql: include_str!("../migrations/postgres/0007_webhook_endpoints.sql") },
    Migration { version: 8, sql: include_str!("../migrations/postgres/0008_dashboard.sql") },
    Migration { version: 9, sql: include_str!("../migrations/postgres/0009_api_keys_and_dashboard_lists.sql") },
];

pub(crate) const CREATE_VERSIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations \
    (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";
