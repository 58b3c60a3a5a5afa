//! The PostgreSQL backend: several gateway processes on one database
//! (docs/reference/configuration.md#storage). Status changes lock the payment row
//! (`FOR UPDATE`) so concurrent nodes serialize.

use crate::change::{ChangeOutcome, Reporter, SettlementPlan, plan, plan_settlement, plan_start};
use crate::idempotency::{Verdict, claim_values, judge, response_values};
use crate::migrations::{CREATE_VERSIONS_TABLE, POSTGRES as MIGRATIONS};
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
use bytes::BytesMut;
use deadpool_postgres::{GenericClient, Pool, Runtime};
use gatepost_core::ids::{AttemptId, EventId, MerchantId, PaymentId, RefundId};
use gatepost_core::payment::{Merchant, Payment};
use gatepost_core::signing::WebhookSecret;
use gatepost_core::status::PaymentEvent;
use gatepost_core::time::Timestamp;
use tokio_postgres::NoTls;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// Connections per process: enough for both cores and the disk, few enough that
/// several gateway nodes fit within PostgreSQL's default 100.
const POOL_SIZE: usize = 24;

/// Serializes migrations across nodes that start at the same moment.
const MIGRATION_LOCK: i64 = 0x6761_7465_706f_7374; // "gatepost"

#[derive(Debug)]
pub(crate) struct PostgresStore {
    pool: Pool,
    outbox: std::sync::Arc<tokio::sync::Notify>,
}

impl PostgresStore {
    pub(crate) fn open(url: &str) -> Result<Self, StoreError> {
        let mut config = deadpool_postgres::Config::new();
        config.url = Some(url.to_owned());
        config.pool = Some(deadpool_postgres::PoolConfig::new(POOL_SIZE));
        let pool = config.create_pool(Some(Runtime::Tokio1), NoTls).map_err(|e| StoreError::Pool(e.to_string()))?;
        Ok(Self { pool, outbox: std::sync::Arc::default() })
    }
}

impl PostgresStore {
    /// Wakes the delivery worker after a change that wrote events has committed.
    fn signal_if_applied(&self, outcome: &ChangeOutcome) {
        if matches!(outcome, ChangeOutcome::Applied { .. }) {
            self.outbox.notify_one();
        }
    }
}

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Self::Text(v) => v.to_sql(ty, out),
            Self::Int(v) => v.to_sql(ty, out),
            Self::Bytes(v) => v.to_sql(ty, out),
        }
    }

    // Each variant only ever binds to its own column type (see the migrations); the
    // wrapped type's `to_sql` still checks the wire format.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl Row for tokio_postgres::Row {
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(column)?)
    }
    fn bytes(&self, column: &str) -> Result<Vec<u8>, StoreError> {
        Ok(self.try_get(column)?)
    }
}

fn params(values: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

async fn execute(client: &impl GenericClient, sql: &str, values: &[Value]) -> Result<u64, StoreError> {
    let statement = client.prepare_cached(sql).await?;
    Ok(client.execute(&statement, &params(values)).await?)
}

async fn query<T>(
    client: &impl GenericClient,
    sql: &str,
    values: &[Value],
    map: impl Fn(&tokio_postgres::Row) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let statement = client.prepare_cached(sql).await?;
    client.query(&statement, &params(values)).await?.iter().map(map).collect()
}

async fn query_one<T>(
    client: &impl GenericClient,
    sql: &str,
    values: &[Value],
    map: impl Fn(&tokio_postgres::Row) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    Ok(query(client, sql, values, map).await?.into_iter().next())
}

/// Payments with their attempts and refunds.
async fn payments_with_attempts(
    client: &impl GenericClient,
    sql: &str,
    values: &[Value],
) -> Result<Vec<Payment>, StoreError> {
    let mut payments = query(client, sql, values, payment_from_row).await?;
    if !payments.is_empty() {
        let ids: Vec<Value> = payments.iter().map(|p| p.id.as_str().into()).collect();
        let attempts = query(client, &attempts_of_sql(ids.len()), &ids, attempt_from_row).await?;
        attach_attempts(&mut payments, attempts);
        let captured = captured_ids(&payments);
        if !captured.is_empty() {
            let refunds = query(client, &refunds_of_sql(captured.len()), &captured, refund_from_row).await?;
            attach_refunds(&mut payments, refunds);
        }
    }
    Ok(payments)
}

/// Records an attempt's result in `transaction` (see `Store::settle_attempt`); the
/// caller commits.
async fn settle_attempt_in(
    transaction: &impl GenericClient,
    attempt: &AttemptId,
    reporter: Reporter<'_>,
    settlement: Settlement,
    now: Timestamp,
) -> Result<ChangeOutcome, StoreError> {
    let attempt_key = [attempt.as_str().into()];
    let Some(found) = query_one(transaction, ATTEMPT_BY_ID, &attempt_key, attempt_from_row).await? else {
        return Ok(ChangeOutcome::NotFound);
    };
    // Lock the payment, whose attempts are then read under the lock: the attempt may
    // have settled since the first look.
    let Some(mut payment) = payment_by_id(transaction, None, &found.payment_id, true).await? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let from = payment.status;
    let default_url = default_webhook_url(transaction, &payment.merchant_id).await?;
    let plan = plan_settlement(&mut payment, attempt, reporter, settlement, now, default_url);
    let Some(SettlementPlan { attempt, events }) = plan else {
        return Ok(ChangeOutcome::Rejected(payment));
    };
    execute(transaction, UPDATE_ATTEMPT, &attempt).await?;
    execute(transaction, UPDATE_PAYMENT_STATE, &payment_state_values(&payment)).await?;
    write_events(transaction, events).await?;
    Ok(ChangeOutcome::Applied { payment, from })
}

/// Records a refund's result in `transaction` (see `Store::settle_refund`); the caller
/// commits.
async fn settle_refund_in(
    transaction: &impl GenericClient,
    refund: &RefundId,
    reporter: Reporter<'_>,
    settlement: RefundSettlement,
    now: Timestamp,
) -> Result<ChangeOutcome, StoreError> {
    let Some(found) = query_one(transaction, REFUND_BY_ID, &[refund.as_str().into()], refund_from_row).await? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let Some(mut payment) = payment_by_id(transaction, None, &found.payment_id, true).await? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let from = payment.status;
    let default_url = default_webhook_url(transaction, &payment.merchant_id).await?;
    let Some(RefundPlan { refund, events }) =
        plan_refund_settlement(&mut payment, refund, reporter, settlement, now, default_url)
    else {
        return Ok(ChangeOutcome::Rejected(payment));
    };
    execute(transaction, UPDATE_REFUND, &refund).await?;
    execute(transaction, UPDATE_PAYMENT_STATE, &payment_state_values(&payment)).await?;
    write_events(transaction, events).await?;
    Ok(ChangeOutcome::Applied { payment, from })
}

/// One payment, scoped to `merchant` when given; `lock` takes its row lock for the
/// rest of the transaction, so concurrent changes to it run one after the other.
async fn payment_by_id(
    client: &impl GenericClient,
    merchant: Option<&MerchantId>,
    id: &PaymentId,
    lock: bool,
) -> Result<Option<Payment>, StoreError> {
    let (sql, values): (&str, Vec<Value>) = match merchant {
        Some(merchant) => (PAYMENT_BY_ID, vec![id.as_str().into(), merchant.as_str().into()]),
        None => (PAYMENT_BY_ID_FOR_ANY_MERCHANT, vec![id.as_str().into()]),
    };
    let sql = if lock { format!("{sql} FOR UPDATE") } else { sql.to_owned() };
    Ok(payments_with_attempts(client, &sql, &values).await?.into_iter().next())
}

async fn default_webhook_url(client: &impl GenericClient, merchant: &MerchantId) -> Result<Option<String>, StoreError> {
    Ok(query_one(client, MERCHANT_DEFAULT_WEBHOOK_URL, &[merchant.as_str().into()], |r| {
        r.opt_text("default_webhook_url")
    })
    .await?
    .flatten())
}

async fn write_events(client: &impl GenericClient, events: Vec<Vec<Value>>) -> Result<(), StoreError> {
    for event in events {
        execute(client, &INSERT_EVENT, &event).await?;
    }
    Ok(())
}

#[async_trait]
impl Store for PostgresStore {
    fn outbox_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        std::sync::Arc::clone(&self.outbox)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let transaction = client.transaction().await?;
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
        transaction.batch_execute(CREATE_VERSIONS_TABLE).await?;
        for migration in MIGRATIONS {
            let applied = transaction
                .query_opt("SELECT version FROM schema_migrations WHERE version = $1", &[&migration.version])
                .await?;
            if applied.is_none() {
                transaction.batch_execute(migration.sql).await?;
                transaction
                    .execute(
                        "INSERT INTO schema_migrations (version, applied_at) \
                         VALUES ($1, (extract(epoch from now()) * 1000)::bigint)",
                        &[&migration.version],
                    )
                    .await?;
            }
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.pool.get().await?.simple_query("SELECT 1").await?;
        Ok(())
    }

    async fn create_merchant(&self, new: NewMerchant) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        execute(&client, &INSERT_MERCHANT, &merchant_values(&new)).await.map(drop)
    }

    async fn list_merchants(&self) -> Result<Vec<Merchant>, StoreError> {
        let client = self.pool.get().await?;
        query(&client, LIST_MERCHANTS, &[], merchant_from_row).await
    }

    async fn merchant_by_api_key_hash(&self, hash: &str) -> Result<Option<Merchant>, StoreError> {
        let client = self.pool.get().await?;
        query_one(&client, MERCHANT_BY_KEY_HASH, &[hash.into()], merchant_from_row).await
    }

    async fn create_payment(&self, payment: &Payment) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        execute(&client, &INSERT_PAYMENT, &payment_values(payment)).await.map(drop)
    }

    async fn payment(&self, merchant: &MerchantId, id: &PaymentId) -> Result<Option<Payment>, StoreError> {
        let client = self.pool.get().await?;
        payment_by_id(&client, Some(merchant), id, false).await
    }

    async fn list_payments(&self, merchant: &MerchantId, query_: &PaymentQuery) -> Result<Page<Payment>, StoreError> {
        let (sql, filters) = list_payments_sql(query_);
        let mut values: Vec<Value> = vec![merchant.as_str().into()];
        values.extend(filters);
        let client = self.pool.get().await?;
        let rows = payments_with_attempts(&client, &sql, &values).await?;
        Ok(into_page(rows, query_.limit))
    }

    async fn apply(
        &self,
        merchant: Option<&MerchantId>,
        id: &PaymentId,
        event: PaymentEvent,
        now: Timestamp,
    ) -> Result<ChangeOutcome, StoreError> {
        let mut client = self.pool.get().await?;
        let transaction = client.transaction().await?;
        let Some(mut payment) = payment_by_id(&transaction, merchant, id, true).await? else {
            return Ok(ChangeOutcome::NotFound);
        };
        let from = payment.status;
        let default_url = default_webhook_url(&transaction, &payment.merchant_id).await?;
        let Some(events) = plan(&mut payment, event, now, default_url) else {
            return Ok(ChangeOutcome::Rejected(payment));
        };
        execute(&transaction, UPDATE_PAYMENT_STATE, &payment_state_values(&payment)).await?;
        write_events(&transaction, events).await?;
        transaction.commit().await?;
        self.outbox.notify_one();
        Ok(ChangeOutcome::Applied { payment, from })
    }

    async fn checkout(&self, token: &str) -> Result<Option<Checkout>, StoreError> {
        let client = self.pool.get().await?;
        let Some(payment) = payments_with_attempts(&client, PAYMENT_BY_CHECKOUT_TOKEN, &[token.into()]).await?.pop()
        else {
            return Ok(None);
        };
        let merchant = [payment.merchant_id.as_str().into()];
        let Some((merchant_name, webhook_secret, connector)) =
            query_one(&client, MERCHANT_FOR_CHECKOUT, &merchant, crate::checkout_parts).await?
        else {
            return Err(StoreError::Corrupt(format!("payment {} has no merchant", payment.id)));
        };
        Ok(Some(Checkout { payment, merchant_name, webhook_secret, connector }))
    }

    async fn start_attempt(
        &self,
        payment: &PaymentId,
        form_token: &str,
        attempt: NewAttempt,
        now: Timestamp,
    ) -> Result<AttemptStart, StoreError> {
        let mut client = self.pool.get().await?;
        let transaction = client.transaction().await?;
        let Some(mut payment) = payment_by_id(&transaction, None, payment, true).await? else {
            return Ok(AttemptStart::NotFound);
        };
        let Some(row) = plan_start(&mut payment, form_token, attempt, now) else {
            return Ok(AttemptStart::Stale(payment));
        };
        execute(&transaction, &INSERT_ATTEMPT, &row).await?;
        execute(&transaction, UPDATE_PAYMENT_STATE, &payment_state_values(&payment)).await?;
        transaction.commit().await?;
        Ok(AttemptStart::Started(payment))
    }

    async fn settle_attempt(
        &self,
        attempt: &AttemptId,
        challenge_token: Option<&str>,
        settlement: Settlement,
        now: Timestamp,
    ) -> Result<ChangeOutcome, StoreError> {
        let mut client = self.pool.get().await?;
        let transaction = client.transaction().await?;
        let outcome =
            settle_attempt_in(&transaction, attempt, Reporter::for_attempt(challenge_token), settlement, now).await?;
        transaction.commit().await?;
        self.signal_if_applied(&outcome);
        Ok(outcome)
    }

    async fn start_refund(
        &self,
        merchant: &MerchantId,
        payment: &PaymentId,
        refund: NewRefund,
        now: Timestamp,
    ) -> Result<RefundStart, StoreError> {
        let mut client = self.pool.get().await?;
        let transaction = client.transaction().await?;
        let Some(mut payment) = payment_by_id(&transaction, Some(merchant), payment, true).await? else {
            return Ok(RefundStart::NotFound);
        };
        let row = match plan_refund_start(&mut payment, refund, now) {
            Ok(row) => row,
            Err(refused) => return Ok(refused.into()),
        };
        execute(&transaction, &INSERT_REFUND, &row).await?;
        transaction.commit().await?;
        let refund = payment.refunds.last().cloned().expect("a started refund is the payment's last");
        Ok(RefundStart::Started(refund))
    }

    async fn settle_refund(
        &self,
        refund: &RefundId,
        settlement: RefundSettlement,
        now: Timestamp,
    ) -> Result<ChangeOutcome, StoreError> {
        let mut client = self.pool.get().await?;
        let transaction = client.transaction().await?;
        let outcome = settle_refund_in(&transaction, refund, Reporter::Connector, settlement, now).await?;
        transaction.commit().await?;
        self.signal_if_applied(&outcome);
        Ok(outcome)
    }

    async fn settle_from_callback(
        &self,
        receipt: &CallbackReceipt,
        change: CallbackChange,
        now: Timestamp,
    ) -> Result<CallbackResult, StoreError> {
        let mut client = self.pool.get().await?;
        let transaction = client.transaction().await?;
        // A twin of this callback inserting at the same moment makes this insert wait for
        // its commit, then affect nothing: exactly one of them applies.
        if execute(&transaction, INSERT_CALLBACK, &callback_insert_values(receipt, change.subject(), now)).await? == 0 {
            execute(&transaction, CALLBACK_RECEIVED_AGAIN, &callback_again_values(receipt, now)).await?;
            transaction.commit().await?;
            return Ok(CallbackResult::Duplicate);
        }
        let reporter = Reporter::Callback(&receipt.connector);
        let outcome = match change {
            CallbackChange::Attempt(id, settlement) => {
                settle_attempt_in(&transaction, &id, reporter, settlement, now).await?
            }
            CallbackChange::Refund(id, settlement) => {
                settle_refund_in(&transaction, &id, reporter, settlement, now).await?
            }
        };
        execute(&transaction, CALLBACK_RESULT, &callback_result_values(receipt, &outcome)).await?;
        transaction.commit().await?;
        self.signal_if_applied(&outcome);
        Ok(CallbackResult::Processed(Box::new(outcome)))
    }

    async fn refunds_due_for_poll(&self, now: Timestamp, limit: u32) -> Result<Vec<DueRefund>, StoreError> {
        let client = self.pool.get().await?;
        let values: [Value; 2] = [now.millis().into(), i64::from(limit).into()];
        query(&client, REFUNDS_DUE_FOR_POLL, &values, due_refund_from_row).await
    }

    async fn reschedule_refund_poll(&self, refund: &RefundId, at: Timestamp) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        execute(&client, RESCHEDULE_REFUND_POLL, &[refund.as_str().into(), at.millis().into()]).await.map(drop)
    }

    async fn payments_due_to_expire(&self, now: Timestamp, limit: u32) -> Result<Vec<PaymentId>, StoreError> {
        let client = self.pool.get().await?;
        let values: [Value; 2] = [now.millis().into(), i64::from(limit).into()];
        query(&client, PAYMENTS_DUE_TO_EXPIRE, &values, |r| Ok(PaymentId::from_trusted(r.text("id")?))).await
    }

    async fn attempts_due_for_poll(&self, now: Timestamp, limit: u32) -> Result<Vec<DueAttempt>, StoreError> {
        let client = self.pool.get().await?;
        let values: [Value; 2] = [now.millis().into(), i64::from(limit).into()];
        let rows = query(&client, ATTEMPTS_DUE_FOR_POLL, &values, attempt_from_row).await?;
        Ok(rows.into_iter().map(|row| DueAttempt { payment_id: row.payment_id, attempt: row.attempt }).collect())
    }

    async fn abandoned_challenges(&self, now: Timestamp, limit: u32) -> Result<Vec<DueAttempt>, StoreError> {
        let client = self.pool.get().await?;
        let values: [Value; 2] = [now.millis().into(), i64::from(limit).into()];
        let rows = query(&client, ABANDONED_CHALLENGES, &values, attempt_from_row).await?;
        Ok(rows.into_iter().map(|row| DueAttempt { payment_id: row.payment_id, attempt: row.attempt }).collect())
    }

    async fn reschedule_poll(&self, attempt: &AttemptId, at: Timestamp) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        execute(&client, RESCHEDULE_POLL, &[attempt.as_str().into(), at.millis().into()]).await.map(drop)
    }

    async fn claim_idempotency_key(
        &self,
        merchant: &MerchantId,
        key: &str,
        request_hash: &str,
        now: Timestamp,
    ) -> Result<IdempotencyClaim, StoreError> {
        let claim = claim_values(merchant, key, request_hash, now);
        let mut client = self.pool.get().await?;
        if execute(&client, INSERT_IDEMPOTENCY_KEY, &claim).await? == 1 {
            return Ok(IdempotencyClaim::Claimed);
        }
        let transaction = client.transaction().await?;
        let locked = format!("{IDEMPOTENCY_KEY} FOR UPDATE");
        let lookup = [merchant.as_str().into(), key.into()];
        let verdict = query_one(&transaction, &locked, &lookup, |row| judge(row, request_hash, now)).await?;
        let claim = match verdict {
            Some(Verdict::Answer(answer)) => answer,
            Some(Verdict::TakeOver) | None => {
                execute(&transaction, TAKE_OVER_IDEMPOTENCY_KEY, &claim).await?;
                IdempotencyClaim::Claimed
            }
        };
        transaction.commit().await?;
        Ok(claim)
    }

    async fn record_idempotent_response(
        &self,
        merchant: &MerchantId,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        execute(&client, RECORD_IDEMPOTENT_RESPONSE, &response_values(merchant, key, response)).await.map(drop)
    }

    async fn forget_expired_idempotency_keys(&self, now: Timestamp) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        let cutoff: [Value; 1] = [(now.millis() - crate::IDEMPOTENCY_RETENTION_MILLIS).into()];
        execute(&client, DELETE_EXPIRED_IDEMPOTENCY_KEYS, &cutoff).await
    }

    async fn release_idempotency_key(&self, merchant: &MerchantId, key: &str) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        execute(&client, DELETE_IDEMPOTENCY_KEY, &[merchant.as_str().into(), key.into()]).await.map(drop)
    }

    async fn claim_due_events(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        scope: ClaimScope<'_>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let client = self.pool.get().await?;
        let (sql, patterns) = claim_due_sql(true, scope);
        let mut values: Vec<Value> = vec![now.millis().into(), lease_until.millis().into(), i64::from(limit).into()];
        values.extend(patterns);
        query(&client, &sql, &values, event_from_row).await
    }

    async fn release_events(&self, ids: &[EventId], at: Timestamp) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let client = self.pool.get().await?;
        let mut values: Vec<Value> = vec![at.millis().into()];
        values.extend(ids.iter().map(|id| Value::from(id.as_str())));
        execute(&client, &release_sql(ids.len()), &values).await.map(drop)
    }

    async fn record_deliveries(&self, attempts: &[(Delivery, NextStep)]) -> Result<(), StoreError> {
        let mut client = self.pool.get().await?;
        let transaction = client.transaction().await?;
        for (delivery, next) in attempts {
            execute(&transaction, &INSERT_DELIVERY, &delivery_values(delivery)).await?;
            execute(&transaction, RECORD_ATTEMPT_ON_EVENT, &record_values(delivery, *next)).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn webhook_signing(
        &self,
        merchant: &MerchantId,
        now: Timestamp,
    ) -> Result<Option<WebhookSigning>, StoreError> {
        let client = self.pool.get().await?;
        query_one(&client, WEBHOOK_SIGNING, &[merchant.as_str().into()], |r| signing_from_row(r, now)).await
    }

    async fn event(&self, merchant: &MerchantId, id: &EventId) -> Result<Option<StoredEvent>, StoreError> {
        let client = self.pool.get().await?;
        query_one(&client, EVENT_BY_ID, &[id.as_str().into(), merchant.as_str().into()], event_from_row).await
    }

    async fn list_events(&self, merchant: &MerchantId, query_: &EventQuery) -> Result<Page<StoredEvent>, StoreError> {
        let (sql, filters) = list_events_sql(query_);
        let mut values: Vec<Value> = vec![merchant.as_str().into()];
        values.extend(filters);
        let client = self.pool.get().await?;
        let rows = query(&client, &sql, &values, event_from_row).await?;
        Ok(into_page(rows, query_.limit))
    }

    async fn deliveries(&self, merchant: &MerchantId, event: &EventId) -> Result<Vec<Delivery>, StoreError> {
        let client = self.pool.get().await?;
        query(&client, DELIVERIES_OF_EVENT, &[event.as_str().into(), merchant.as_str().into()], delivery_from_row).await
    }

    async fn request_resend(&self, merchant: &MerchantId, event: &EventId, now: Timestamp) -> Result<bool, StoreError> {
        let client = self.pool.get().await?;
        let values: [Value; 3] = [event.as_str().into(), merchant.as_str().into(), now.millis().into()];
        Ok(execute(&client, REQUEST_RESEND, &values).await? == 1)
    }

    async fn webhook_backlog(&self) -> Result<u64, StoreError> {
        let client = self.pool.get().await?;
        let count = query_one(&client, BACKLOG, &[], |r| r.int("backlog")).await?.unwrap_or(0);
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
        let client = self.pool.get().await?;
        query_one(&client, MERCHANT_BY_ID, &[id.as_str().into()], merchant_from_row).await
    }

    async fn update_merchant(&self, merchant: &Merchant) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        execute(&client, UPDATE_MERCHANT_SETTINGS, &merchant_settings_values(merchant)).await.map(drop)
    }

    async fn rotate_webhook_secret(
        &self,
        merchant: &MerchantId,
        new: &WebhookSecret,
        previous_until: Timestamp,
    ) -> Result<(), StoreError> {
        let client = self.pool.get().await?;
        let values: [Value; 3] = [merchant.as_str().into(), new.expose().into(), previous_until.millis().into()];
        execute(&client, ROTATE_WEBHOOK_SECRET, &values).await.map(drop)
    }
}
