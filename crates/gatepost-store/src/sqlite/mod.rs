//! The embedded SQLite backend: one file in WAL mode, fsync'd on every commit.

mod readers;
mod writer;

use crate::change::{ChangeOutcome, plan};
use crate::idempotency::{Verdict, claim_values, judge, response_values};
use crate::migrations::{CREATE_VERSIONS_TABLE, SQLITE as MIGRATIONS};
use crate::queries::{
    DELETE_IDEMPOTENCY_KEY, IDEMPOTENCY_KEY, INSERT_IDEMPOTENCY_KEY, LIST_MERCHANTS,
    MERCHANT_BY_KEY_HASH, MERCHANT_DEFAULT_WEBHOOK_URL, PAYMENT_BY_ID, RECORD_IDEMPOTENT_RESPONSE,
    TAKE_OVER_IDEMPOTENCY_KEY,
};
use crate::rows::{Row, into_page, list_payments_sql, merchant_from_row, payment_from_row};
use crate::values::{
    INSERT_EVENT, INSERT_MERCHANT, INSERT_PAYMENT, UPDATE_PAYMENT_STATE, Value, merchant_values,
    payment_state_values, payment_values,
};
use crate::{IdempotencyClaim, NewMerchant, Page, PaymentQuery, Store, StoreError, StoredResponse};
use async_trait::async_trait;
use gatepost_core::ids::{MerchantId, PaymentId};
use gatepost_core::payment::{Merchant, Payment};
use gatepost_core::status::PaymentEvent;
use gatepost_core::time::Timestamp;
use readers::Readers;
use rusqlite::types::ToSqlOutput;
use rusqlite::{Connection, OptionalExtension as _, params_from_iter};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use writer::Writer;

#[derive(Debug)]
pub(crate) struct SqliteStore {
    writer: Writer,
    readers: Arc<Readers>,
}

/// Opens a connection with the settings every gatepost connection needs.
fn open_connection(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    // WAL lets readers run beside the writer; synchronous=FULL fsyncs the WAL on every
    // commit, so a 201 is on disk before it is sent. busy_timeout covers the CLI or a
    // second process writing at the same moment.
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    if read_only {
        connection.pragma_update(None, "query_only", "ON")?;
    }
    Ok(connection)
}

impl SqliteStore {
    pub(crate) async fn open(path: &str) -> Result<Self, StoreError> {
        let path = PathBuf::from(path);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        }
        let connection = open_connection(&path, false)?;
        let writer = Writer::start(connection).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Self {
            writer,
            readers: Readers::new(path),
        })
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            Self::Text(v) => v.to_sql(),
            Self::Int(v) => v.to_sql(),
            Self::Bytes(v) => v.to_sql(),
        }
    }
}

impl Row for rusqlite::Row<'_> {
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.get(column)?)
    }
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.get(column)?)
    }
    fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError> {
        Ok(self.get(column)?)
    }
}

/// The shared SQL writes parameters as PostgreSQL's `$N`; SQLite numbers `$N` by first
/// appearance, so they become `?N`, which SQLite numbers as written.
fn prepare<'c>(
    connection: &'c Connection,
    sql: &str,
) -> Result<rusqlite::CachedStatement<'c>, StoreError> {
    Ok(connection.prepare_cached(&sql.replace('$', "?"))?)
}

fn execute(connection: &Connection, sql: &str, values: Vec<Value>) -> Result<usize, StoreError> {
    Ok(prepare(connection, sql)?.execute(params_from_iter(values))?)
}

/// All rows of a query, each mapped by `map`.
fn query<T>(
    connection: &Connection,
    sql: &str,
    values: Vec<Value>,
    map: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut statement = prepare(connection, sql)?;
    let mut rows = statement.query(params_from_iter(values))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}

fn query_one<T>(
    connection: &Connection,
    sql: &str,
    values: Vec<Value>,
    map: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    Ok(query(connection, sql, values, map)?.into_iter().next())
}

fn payment_by_id(
    connection: &Connection,
    merchant: &MerchantId,
    id: &PaymentId,
) -> Result<Option<Payment>, StoreError> {
    let values = vec![id.as_str().into(), merchant.as_str().into()];
    query_one(connection, PAYMENT_BY_ID, values, |r| payment_from_row(r))
}

fn migrate(connection: &Connection) -> Result<(), StoreError> {
    connection.execute_batch(CREATE_VERSIONS_TABLE)?;
    for migration in MIGRATIONS {
        let applied: Option<i64> = connection
            .query_row(
                "SELECT version FROM schema_migrations WHERE version = ?1",
                [migration.version],
                |r| r.get(0),
            )
            .optional()?;
        if applied.is_none() {
            connection.execute_batch(migration.sql)?;
            connection.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                [migration.version, chrono_now_millis()],
            )?;
        }
    }
    Ok(())
}

fn chrono_now_millis() -> i64 {
    use gatepost_core::time::Clock as _;
    gatepost_core::time::SystemClock.now().millis()
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        self.writer.write(migrate).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.readers
            .read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn create_merchant(&self, new: NewMerchant) -> Result<(), StoreError> {
        let values = merchant_values(&new);
        self.writer
            .write(move |c| execute(c, &INSERT_MERCHANT, values).map(drop))
            .await
    }

    async fn list_merchants(&self) -> Result<Vec<Merchant>, StoreError> {
        self.readers
            .read(|c| query(c, LIST_MERCHANTS, vec![], |r| merchant_from_row(r)))
            .await
    }

    async fn merchant_by_api_key_hash(&self, hash: &str) -> Result<Option<Merchant>, StoreError> {
        let values = vec![hash.into()];
        self.readers
            .read(move |c| query_one(c, MERCHANT_BY_KEY_HASH, values, |r| merchant_from_row(r)))
            .await
    }

    async fn create_payment(&self, payment: &Payment) -> Result<(), StoreError> {
        let values = payment_values(payment);
        self.writer
            .write(move |c| execute(c, &INSERT_PAYMENT, values).map(drop))
            .await
    }

    async fn payment(
        &self,
        merchant: &MerchantId,
        id: &PaymentId,
    ) -> Result<Option<Payment>, StoreError> {
        let (merchant, id) = (merchant.clone(), id.clone());
        self.readers
            .read(move |c| payment_by_id(c, &merchant, &id))
            .await
    }

    async fn list_payments(
        &self,
        merchant: &MerchantId,
        query_: &PaymentQuery,
    ) -> Result<Page<Payment>, StoreError> {
        let (sql, filters) = list_payments_sql(query_);
        let mut values: Vec<Value> = vec![merchant.as_str().into()];
        values.extend(filters);
        let limit = query_.limit;
        let rows = self
            .readers
            .read(move |c| query(c, &sql, values, |r| payment_from_row(r)))
            .await?;
        Ok(into_page(rows, limit))
    }

    async fn apply(
        &self,
        merchant: &MerchantId,
        id: &PaymentId,
        event: PaymentEvent,
        now: Timestamp,
    ) -> Result<ChangeOutcome, StoreError> {
        let (merchant, id) = (merchant.clone(), id.clone());
        self.writer
            .write(move |c| {
                let Some(mut payment) = payment_by_id(c, &merchant, &id)? else {
                    return Ok(ChangeOutcome::NotFound);
                };
                let default_url = query_one(
                    c,
                    MERCHANT_DEFAULT_WEBHOOK_URL,
                    vec![merchant.as_str().into()],
                    |r| r.opt_text("default_webhook_url"),
                )?
                .flatten();
                let Some(events) = plan(&mut payment, event, now, default_url) else {
                    return Ok(ChangeOutcome::Rejected(payment));
                };
                execute(c, UPDATE_PAYMENT_STATE, payment_state_values(&payment))?;
                for event in events {
                    execute(c, &INSERT_EVENT, event)?;
                }
                Ok(ChangeOutcome::Applied(payment))
            })
            .await
    }

    async fn claim_idempotency_key(
        &self,
        merchant: &MerchantId,
        key: &str,
        request_hash: &str,
        now: Timestamp,
    ) -> Result<IdempotencyClaim, StoreError> {
        let claim = claim_values(merchant, key, request_hash, now);
        let lookup: Vec<Value> = vec![merchant.as_str().into(), key.into()];
        let request_hash = request_hash.to_owned();
        self.writer
            .write(move |c| {
                if execute(c, INSERT_IDEMPOTENCY_KEY, claim.clone())? == 1 {
                    return Ok(IdempotencyClaim::Claimed);
                }
                let verdict = query_one(c, IDEMPOTENCY_KEY, lookup, |row| {
                    judge(row, &request_hash, now)
                })?;
                match verdict {
                    Some(Verdict::Answer(answer)) => Ok(answer),
                    Some(Verdict::TakeOver) | None => {
                        execute(c, TAKE_OVER_IDEMPOTENCY_KEY, claim)?;
                        Ok(IdempotencyClaim::Claimed)
                    }
                }
            })
            .await
    }

    async fn record_idempotent_response(
        &self,
        merchant: &MerchantId,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let values = response_values(merchant, key, response);
        self.writer
            .write(move |c| execute(c, RECORD_IDEMPOTENT_RESPONSE, values).map(drop))
            .await
    }

    async fn release_idempotency_key(
        &self,
        merchant: &MerchantId,
        key: &str,
    ) -> Result<(), StoreError> {
        let values: Vec<Value> = vec![merchant.as_str().into(), key.into()];
        self.writer
            .write(move |c| execute(c, DELETE_IDEMPOTENCY_KEY, values).map(drop))
            .await
    }
}
