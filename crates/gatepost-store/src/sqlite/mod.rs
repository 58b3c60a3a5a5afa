//! The embedded SQLite backend: one file in WAL mode, fsync'd on every commit.

mod checkpointer;
mod readers;
mod writer;

use crate::change::{ChangeOutcome, Reporter, SettlementPlan, plan, plan_settlement, plan_start};
use crate::idempotency::{Verdict, claim_values, judge, response_values};
use crate::migrations::{CREATE_VERSIONS_TABLE, SQLITE as MIGRATIONS};
use crate::queries::{
    ABANDONED_CHALLENGES, ATTEMPT_BY_ID, ATTEMPTS_DUE_FOR_POLL, DELETE_EXPIRED_IDEMPOTENCY_KEYS,
    DELETE_IDEMPOTENCY_KEY, IDEMPOTENCY_KEY, INSERT_IDEMPOTENCY_KEY, LIST_MERCHANTS, MERCHANT_BY_KEY_HASH,
    MERCHANT_DEFAULT_WEBHOOK_URL, MERCHANT_FOR_CHECKOUT, PAYMENT_BY_CHECKOUT_TOKEN, PAYMENT_BY_ID,
    PAYMENT_BY_ID_FOR_ANY_MERCHANT, PAYMENTS_DUE_TO_EXPIRE, RECORD_IDEMPOTENT_RESPONSE, RESCHEDULE_POLL,
    TAKE_OVER_IDEMPOTENCY_KEY,
};
use crate::queries::{MERCHANT_BY_ID, ROTATE_WEBHOOK_SECRET, UPDATE_MERCHANT_SETTINGS};
use crate::refunds::{
    CALLBACK_RECEIVED_AGAIN, CALLBACK_RESULT, INSERT_CALLBACK, INSERT_REFUND, REFUND_BY_ID, REFUNDS_DUE_FOR_POLL,
    RESCHEDULE_REFUND_POLL, RefundPlan, UPDATE_REFUND, attach_refunds, callback_again_values, callback_insert_values,
    callback_result_values, captured_ids, due_refund_from_row, plan_refund_settlement, plan_refund_start,
    refund_from_row, refunds_of_sql,
};
use crate::rows::{
    Row, attach_attempts, attempt_from_row, attempts_of_sql, into_page, list_payments_sql, merchant_from_row,
    payment_from_row,
};
use crate::values::merchant_settings_values;
use crate::values::{
    INSERT_ATTEMPT, INSERT_EVENT, INSERT_MERCHANT, INSERT_PAYMENT, UPDATE_ATTEMPT, UPDATE_PAYMENT_STATE, Value,
    merchant_values, payment_state_values, payment_values,
};
use crate::webhooks::{
    BACKLOG, ClaimScope, DELIVERIES_OF_EVENT, Delivery, EVENT_BY_ID, EventQuery, INSERT_DELIVERY, NextStep,
    RECORD_ATTEMPT_ON_EVENT, REQUEST_RESEND, StoredEvent, WEBHOOK_SIGNING, WebhookSigning, claim_due_sql,
    delivery_from_row, delivery_values, event_from_row, list_events_sql, record_values, release_sql, signing_from_row,
};
use crate::{
    AttemptStart, CallbackChange, CallbackReceipt, CallbackResult, Checkout, DueAttempt, DueRefund, IdempotencyClaim,
    NewAttempt, NewMerchant, NewRefund, Page, PaymentQuery, RefundSettlement, RefundStart, Settlement, Store,
    StoreError, StoredResponse,
};
use async_trait::async_trait;
use gatepost_core::ids::EventId;
use gatepost_core::ids::{AttemptId, MerchantId, PaymentId, RefundId};
use gatepost_core::payment::{Merchant, Payment};
use gatepost_core::signing::WebhookSecret;
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
    _checkpointer: checkpointer::Checkpointer,
    readers: Arc<Readers>,
    outbox: Arc<tokio::sync::Notify>,
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

/// Creates the database file readable and writable by its owner only (0600), if it does
/// not exist yet: it holds webhook secrets. SQLite gives the `-wal` and `-shm` files the
/// database file's permissions. An existing file keeps the permissions it was given.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

impl SqliteStore {
    pub(crate) async fn open(path: &str) -> Result<Self, StoreError> {
        let path = PathBuf::from(path);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        }
        create_private_file(&path).map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display())))?;
        let connection = open_connection(&path, false)?;
        connection.pragma_update(None, "wal_autocheckpoint", checkpointer::BACKSTOP_PAGES)?;
        let writer = Writer::start(connection).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let checkpointer =
            checkpointer::Checkpointer::start(path.clone()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Self { writer, _checkpointer: checkpointer, readers: Readers::new(path), outbox: Arc::default() })
    }
}

impl SqliteStore {
    /// Wakes the delivery worker after a change that wrote events has committed.
    fn signal_if_applied(&self, outcome: &ChangeOutcome) {
        if matches!(outcome, ChangeOutcome::Applied { .. }) {
            self.outbox.notify_one();
        }
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
fn prepare<'c>(connection: &'c Connection, sql: &str) -> Result<rusqlite::CachedStatement<'c>, StoreError> {
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

/// Payments with their attempts and refunds.
fn payments_with_attempts(connection: &Connection, sql: &str, values: Vec<Value>) -> Result<Vec<Payment>, StoreError> {
    let mut payments = query(connection, sql, values, |r| payment_from_row(r))?;
    if !payments.is_empty() {
        let ids: Vec<Value> = payments.iter().map(|p| p.id.as_str().into()).collect();
        let attempts = query(connection, &attempts_of_sql(ids.len()), ids, |r| attempt_from_row(r))?;
        attach_attempts(&mut payments, attempts);
        let captured = captured_ids(&payments);
        if !captured.is_empty() {
            let refunds = query(connection, &refunds_of_sql(captured.len()), captured, |r| refund_from_row(r))?;
            attach_refunds(&mut payments, refunds);
        }
    }
    Ok(payments)
}

/// Records an attempt's result inside the writer's transaction (see `Store::settle_attempt`).
fn settle_attempt_in(
    c: &Connection,
    attempt_id: &AttemptId,
    reporter: Reporter<'_>,
    settlement: Settlement,
    now: Timestamp,
) -> Result<ChangeOutcome, StoreError> {
    let Some(stored) = query_one(c, ATTEMPT_BY_ID, vec![attempt_id.as_str().into()], |r| attempt_from_row(r))? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let Some(mut payment) = payment_by_id(c, None, &stored.payment_id)? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let from = payment.status;
    let default_url = default_webhook_url(c, &payment.merchant_id)?;
    let plan = plan_settlement(&mut payment, attempt_id, reporter, settlement, now, default_url);
    let Some(SettlementPlan { attempt, events }) = plan else {
        return Ok(ChangeOutcome::Rejected(payment));
    };
    execute(c, UPDATE_ATTEMPT, attempt)?;
    execute(c, UPDATE_PAYMENT_STATE, payment_state_values(&payment))?;
    write_events(c, events)?;
    Ok(ChangeOutcome::Applied { payment, from })
}

/// Records a refund's result inside the writer's transaction (see `Store::settle_refund`).
fn settle_refund_in(
    c: &Connection,
    refund_id: &RefundId,
    reporter: Reporter<'_>,
    settlement: RefundSettlement,
    now: Timestamp,
) -> Result<ChangeOutcome, StoreError> {
    let Some(stored) = query_one(c, REFUND_BY_ID, vec![refund_id.as_str().into()], |r| refund_from_row(r))? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let Some(mut payment) = payment_by_id(c, None, &stored.payment_id)? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let from = payment.status;
    let default_url = default_webhook_url(c, &payment.merchant_id)?;
    let Some(RefundPlan { refund, events }) =
        plan_refund_settlement(&mut payment, refund_id, reporter, settlement, now, default_url)
    else {
        return Ok(ChangeOutcome::Rejected(payment));
    };
    execute(c, UPDATE_REFUND, refund)?;
    execute(c, UPDATE_PAYMENT_STATE, payment_state_values(&payment))?;
    write_events(c, events)?;
    Ok(ChangeOutcome::Applied { payment, from })
}

/// One payment, scoped to `merchant` when given.
fn payment_by_id(
    connection: &Connection,
    merchant: Option<&MerchantId>,
    id: &PaymentId,
) -> Result<Option<Payment>, StoreError> {
    let (sql, values) = match merchant {
        Some(merchant) => (PAYMENT_BY_ID, vec![id.as_str().into(), merchant.as_str().into()]),
        None => (PAYMENT_BY_ID_FOR_ANY_MERCHANT, vec![id.as_str().into()]),
    };
    Ok(payments_with_attempts(connection, sql, values)?.into_iter().next())
}

fn default_webhook_url(connection: &Connection, merchant: &MerchantId) -> Result<Option<String>, StoreError> {
    Ok(query_one(connection, MERCHANT_DEFAULT_WEBHOOK_URL, vec![merchant.as_str().into()], |r| {
        r.opt_text("default_webhook_url")
    })?
    .flatten())
}

fn write_events(connection: &Connection, events: Vec<Vec<Value>>) -> Result<(), StoreError> {
    for event in events {
        execute(connection, &INSERT_EVENT, event)?;
    }
    Ok(())
}

fn migrate(connection: &Connection) -> Result<(), StoreError> {
    connection.execute_batch(CREATE_VERSIONS_TABLE)?;
    for migration in MIGRATIONS {
        let applied: Option<i64> = connection
            .query_row("SELECT version FROM schema_migrations WHERE version = ?1", [migration.version], |r| r.get(0))
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
    fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.outbox)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.writer.write(migrate).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.readers.read(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?)).await
    }

    async fn create_merchant(&self, new: NewMerchant) -> Result<(), StoreError> {
        let values = merchant_values(&new);
        self.writer.write(move |c| execute(c, &INSERT_MERCHANT, values).map(drop)).await
    }

    async fn list_merchants(&self) -> Result<Vec<Merchant>, StoreError> {
        self.readers.read(|c| query(c, LIST_MERCHANTS, vec![], |r| merchant_from_row(r))).await
    }

    async fn merchant_by_api_key_hash(&self, hash: &str) -> Result<Option<Merchant>, StoreError> {
        let values = vec![hash.into()];
        self.readers.read(move |c| query_one(c, MERCHANT_BY_KEY_HASH, values, |r| merchant_from_row(r))).await
    }

    async fn create_payment(&self, payment: &Payment) -> Result<(), StoreError> {
        let values = payment_values(payment);
        self.writer.write(move |c| execute(c, &INSERT_PAYMENT, values).map(drop)).await
    }

    async fn payment(&self, merchant: &MerchantId, id: &PaymentId) -> Result<Option<Payment>, StoreError> {
        let (merchant, id) = (merchant.clone(), id.clone());
        self.readers.read(move |c| payment_by_id(c, Some(&merchant), &id)).await
    }

    async fn list_payments(&self, merchant: &MerchantId, query_: &PaymentQuery) -> Result<Page<Payment>, StoreError> {
        let (sql, filters) = list_payments_sql(query_);
        let mut values: Vec<Value> = vec![merchant.as_str().into()];
        values.extend(filters);
        let limit = query_.limit;
        let rows = self.readers.read(move |c| payments_with_attempts(c, &sql, values)).await?;
        Ok(into_page(rows, limit))
    }

    async fn apply(
        &self,
        merchant: Option<&MerchantId>,
        id: &PaymentId,
        event: PaymentEvent,
        now: Timestamp,
    ) -> Result<ChangeOutcome, StoreError> {
        let (merchant, id) = (merchant.cloned(), id.clone());
        self.writer
            .write(move |c| {
                let Some(mut payment) = payment_by_id(c, merchant.as_ref(), &id)? else {
                    return Ok(ChangeOutcome::NotFound);
                };
                let from = payment.status;
                let default_url = default_webhook_url(c, &payment.merchant_id)?;
                let Some(events) = plan(&mut payment, event, now, default_url) else {
                    return Ok(ChangeOutcome::Rejected(payment));
                };
                execute(c, UPDATE_PAYMENT_STATE, payment_state_values(&payment))?;
                write_events(c, events)?;
                Ok(ChangeOutcome::Applied { payment, from })
            })
            .await
            .inspect(|outcome| self.signal_if_applied(outcome))
    }

    async fn checkout(&self, token: &str) -> Result<Option<Checkout>, StoreError> {
        let token: Value = token.into();
        self.readers
            .read(move |c| {
                let Some(payment) = payments_with_attempts(c, PAYMENT_BY_CHECKOUT_TOKEN, vec![token])?.pop() else {
                    return Ok(None);
                };
                let merchant = vec![payment.merchant_id.as_str().into()];
                let Some((merchant_name, webhook_secret, connector)) =
                    query_one(c, MERCHANT_FOR_CHECKOUT, merchant, |r| crate::checkout_parts(r))?
                else {
                    return Err(StoreError::Corrupt(format!("payment {} has no merchant", payment.id)));
                };
                Ok(Some(Checkout { payment, merchant_name, webhook_secret, connector }))
            })
            .await
    }

    async fn start_attempt(
        &self,
        payment: &PaymentId,
        form_token: &str,
        attempt: NewAttempt,
        now: Timestamp,
    ) -> Result<AttemptStart, StoreError> {
        let (id, form_token) = (payment.clone(), form_token.to_owned());
        self.writer
            .write(move |c| {
                let Some(mut payment) = payment_by_id(c, None, &id)? else {
                    return Ok(AttemptStart::NotFound);
                };
                let Some(row) = plan_start(&mut payment, &form_token, attempt, now) else {
                    return Ok(AttemptStart::Stale(payment));
                };
                execute(c, &INSERT_ATTEMPT, row)?;
                execute(c, UPDATE_PAYMENT_STATE, payment_state_values(&payment))?;
                Ok(AttemptStart::Started(payment))
            })
            .await
    }

    async fn settle_attempt(
        &self,
        attempt: &AttemptId,
        challenge_token: Option<&str>,
        settlement: Settlement,
        now: Timestamp,
    ) -> Result<ChangeOutcome, StoreError> {
        let (attempt_id, expected) = (attempt.clone(), challenge_token.map(str::to_owned));
        self.writer
            .write(move |c| {
                settle_attempt_in(c, &attempt_id, Reporter::for_attempt(expected.as_deref()), settlement, now)
            })
            .await
            .inspect(|outcome| self.signal_if_applied(outcome))
    }

    async fn start_refund(
        &self,
        merchant: &MerchantId,
        payment: &PaymentId,
        refund: NewRefund,
        now: Timestamp,
    ) -> Result<RefundStart, StoreError> {
        let (merchant, id) = (merchant.clone(), payment.clone());
        self.writer
            .write(move |c| {
                let Some(mut payment) = payment_by_id(c, Some(&merchant), &id)? else {
                    return Ok(RefundStart::NotFound);
                };
                let row = match plan_refund_start(&mut payment, refund, now) {
                    Ok(row) => row,
                    Err(refused) => return Ok(refused.into()),
                };
                execute(c, &INSERT_REFUND, row)?;
                let refund = payment.refunds.last().cloned().expect("a started refund is the payment's last");
                Ok(RefundStart::Started(refund))
            })
            .await
    }

    async fn settle_refund(
        &self,
        refund: &RefundId,
        settlement: RefundSettlement,
        now: Timestamp,
    ) -> Result<ChangeOutcome, StoreError> {
        let refund = refund.clone();
        self.writer
            .write(move |c| settle_refund_in(c, &refund, Reporter::Connector, settlement, now))
            .await
            .inspect(|outcome| self.signal_if_applied(outcome))
    }

    async fn settle_from_callback(
        &self,
        receipt: &CallbackReceipt,
        change: CallbackChange,
        now: Timestamp,
    ) -> Result<CallbackResult, StoreError> {
        let receipt = receipt.clone();
        let result = self
            .writer
            .write(move |c| {
                if execute(c, INSERT_CALLBACK, callback_insert_values(&receipt, change.subject(), now))? == 0 {
                    execute(c, CALLBACK_RECEIVED_AGAIN, callback_again_values(&receipt, now))?;
                    return Ok(CallbackResult::Duplicate);
                }
                let reporter = Reporter::Callback(&receipt.connector);
                let outcome = match change {
                    CallbackChange::Attempt(id, settlement) => settle_attempt_in(c, &id, reporter, settlement, now)?,
                    CallbackChange::Refund(id, settlement) => settle_refund_in(c, &id, reporter, settlement, now)?,
                };
                execute(c, CALLBACK_RESULT, callback_result_values(&receipt, &outcome))?;
                Ok(CallbackResult::Processed(Box::new(outcome)))
            })
            .await?;
        if let CallbackResult::Processed(outcome) = &result {
            self.signal_if_applied(outcome);
        }
        Ok(result)
    }

    async fn refunds_due_for_poll(&self, now: Timestamp, limit: u32) -> Result<Vec<DueRefund>, StoreError> {
        let values: Vec<Value> = vec![now.millis().into(), i64::from(limit).into()];
        self.readers.read(move |c| query(c, REFUNDS_DUE_FOR_POLL, values, |r| due_refund_from_row(r))).await
    }

    async fn reschedule_refund_poll(&self, refund: &RefundId, at: Timestamp) -> Result<(), StoreError> {
        let values: Vec<Value> = vec![refund.as_str().into(), at.millis().into()];
        self.writer.write(move |c| execute(c, RESCHEDULE_REFUND_POLL, values).map(drop)).await
    }

    async fn payments_due_to_expire(&self, now: Timestamp, limit: u32) -> Result<Vec<PaymentId>, StoreError> {
        let values: Vec<Value> = vec![now.millis().into(), i64::from(limit).into()];
        self.readers
            .read(move |c| query(c, PAYMENTS_DUE_TO_EXPIRE, values, |r| Ok(PaymentId::from_trusted(r.text("id")?))))
            .await
    }

    async fn attempts_due_for_poll(&self, now: Timestamp, limit: u32) -> Result<Vec<DueAttempt>, StoreError> {
        let values: Vec<Value> = vec![now.millis().into(), i64::from(limit).into()];
        let rows = self.readers.read(move |c| query(c, ATTEMPTS_DUE_FOR_POLL, values, |r| attempt_from_row(r))).await?;
        Ok(rows.into_iter().map(|row| DueAttempt { payment_id: row.payment_id, attempt: row.attempt }).collect())
    }

    async fn abandoned_challenges(&self, now: Timestamp, limit: u32) -> Result<Vec<DueAttempt>, StoreError> {
        let values: Vec<Value> = vec![now.millis().into(), i64::from(limit).into()];
        let rows = self.readers.read(move |c| query(c, ABANDONED_CHALLENGES, values, |r| attempt_from_row(r))).await?;
        Ok(rows.into_iter().map(|row| DueAttempt { payment_id: row.payment_id, attempt: row.attempt }).collect())
    }

    async fn reschedule_poll(&self, attempt: &AttemptId, at: Timestamp) -> Result<(), StoreError> {
        let values: Vec<Value> = vec![attempt.as_str().into(), at.millis().into()];
        self.writer.write(move |c| execute(c, RESCHEDULE_POLL, values).map(drop)).await
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
                let verdict = query_one(c, IDEMPOTENCY_KEY, lookup, |row| judge(row, &request_hash, now))?;
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
        self.writer.write(move |c| execute(c, RECORD_IDEMPOTENT_RESPONSE, values).map(drop)).await
    }

    async fn forget_expired_idempotency_keys(&self, now: Timestamp) -> Result<u64, StoreError> {
        let values: Vec<Value> = vec![(now.millis() - crate::IDEMPOTENCY_RETENTION_MILLIS).into()];
        self.writer.write(move |c| Ok(execute(c, DELETE_EXPIRED_IDEMPOTENCY_KEYS, values)? as u64)).await
    }

    async fn release_idempotency_key(&self, merchant: &MerchantId, key: &str) -> Result<(), StoreError> {
        let values: Vec<Value> = vec![merchant.as_str().into(), key.into()];
        self.writer.write(move |c| execute(c, DELETE_IDEMPOTENCY_KEY, values).map(drop)).await
    }

    async fn claim_due_events(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        scope: ClaimScope<'_>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let (sql, patterns) = claim_due_sql(false, scope);
        let mut values: Vec<Value> = vec![now.millis().into(), lease_until.millis().into(), i64::from(limit).into()];
        values.extend(patterns);
        self.writer.write(move |c| query(c, &sql, values, |r| event_from_row(r))).await
    }

    async fn release_events(&self, ids: &[EventId], at: Timestamp) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = release_sql(ids.len());
        let mut values: Vec<Value> = vec![at.millis().into()];
        values.extend(ids.iter().map(|id| Value::from(id.as_str())));
        self.writer.write(move |c| execute(c, &sql, values).map(drop)).await
    }

    async fn record_deliveries(&self, attempts: &[(Delivery, NextStep)]) -> Result<(), StoreError> {
        let rows: Vec<(Vec<Value>, Vec<Value>)> = attempts
            .iter()
            .map(|(delivery, next)| (delivery_values(delivery), record_values(delivery, *next)))
            .collect();
        self.writer
            .write(move |c| {
                for (insert, update) in rows {
                    execute(c, &INSERT_DELIVERY, insert)?;
                    execute(c, RECORD_ATTEMPT_ON_EVENT, update)?;
                }
                Ok(())
            })
            .await
    }

    async fn webhook_signing(
        &self,
        merchant: &MerchantId,
        now: Timestamp,
    ) -> Result<Option<WebhookSigning>, StoreError> {
        let values: Vec<Value> = vec![merchant.as_str().into()];
        self.readers.read(move |c| query_one(c, WEBHOOK_SIGNING, values, |r| signing_from_row(r, now))).await
    }

    async fn event(&self, merchant: &MerchantId, id: &EventId) -> Result<Option<StoredEvent>, StoreError> {
        let values: Vec<Value> = vec![id.as_str().into(), merchant.as_str().into()];
        self.readers.read(move |c| query_one(c, EVENT_BY_ID, values, |r| event_from_row(r))).await
    }

    async fn list_events(&self, merchant: &MerchantId, query_: &EventQuery) -> Result<Page<StoredEvent>, StoreError> {
        let (sql, filters) = list_events_sql(query_);
        let mut values: Vec<Value> = vec![merchant.as_str().into()];
        values.extend(filters);
        let limit = query_.limit;
        let rows = self.readers.read(move |c| query(c, &sql, values, |r| event_from_row(r))).await?;
        Ok(into_page(rows, limit))
    }

    async fn deliveries(&self, merchant: &MerchantId, event: &EventId) -> Result<Vec<Delivery>, StoreError> {
        let values: Vec<Value> = vec![event.as_str().into(), merchant.as_str().into()];
        self.readers.read(move |c| query(c, DELIVERIES_OF_EVENT, values, |r| delivery_from_row(r))).await
    }

    async fn request_resend(&self, merchant: &MerchantId, event: &EventId, now: Timestamp) -> Result<bool, StoreError> {
        let values: Vec<Value> = vec![event.as_str().into(), merchant.as_str().into(), now.millis().into()];
        self.writer.write(move |c| Ok(execute(c, REQUEST_RESEND, values)? == 1)).await
    }

    async fn webhook_backlog(&self) -> Result<u64, StoreError> {
        self.readers
            .read(|c| {
                let count = query_one(c, BACKLOG, vec![], |r| r.int("backlog"))?.unwrap_or(0);
                Ok(u64::try_from(count).unwrap_or(0))
            })
            .await
    }

    async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
        let values: Vec<Value> = vec![id.as_str().into()];
        self.readers.read(move |c| query_one(c, MERCHANT_BY_ID, values, |r| merchant_from_row(r))).await
    }

    async fn update_merchant(&self, merchant: &Merchant) -> Result<(), StoreError> {
        let values = merchant_settings_values(merchant);
        self.writer.write(move |c| execute(c, UPDATE_MERCHANT_SETTINGS, values).map(drop)).await
    }

    async fn rotate_webhook_secret(
        &self,
        merchant: &MerchantId,
        new: &WebhookSecret,
        previous_until: Timestamp,
    ) -> Result<(), StoreError> {
        let values: Vec<Value> = vec![merchant.as_str().into(), new.expose().into(), previous_until.millis().into()];
        self.writer.write(move |c| execute(c, ROTATE_WEBHOOK_SECRET, values).map(drop)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn fresh_store(dir: &tempfile::TempDir) -> (SqliteStore, PathBuf) {
        let path = dir.path().join("gatepost.db");
        let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
        store.migrate().await.unwrap();
        (store, path)
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_database_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let (store, path) = fresh_store(&dir).await;
        store.ping().await.unwrap();
        for file in [path.clone(), PathBuf::from(format!("{}-wal", path.display()))] {
            let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", file.display());
        }
    }

    #[tokio::test]
    async fn the_backlog_is_counted_from_the_pending_index_without_reading_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = fresh_store(&dir).await;
        let plan = store
            .readers
            .read(|c| {
                let mut statement = c.prepare(&format!("EXPLAIN QUERY PLAN {BACKLOG}"))?;
                let rows = statement.query_map([], |row| row.get::<_, String>(3))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?.join("; "))
            })
            .await
            .unwrap();
        assert!(plan.contains("COVERING INDEX events_pending"), "{plan}");
    }
}
