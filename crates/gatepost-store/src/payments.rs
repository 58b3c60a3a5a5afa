//! Payments and their attempts: each operation written once over [`Tx`]. Every change
//! loads the payment (locked on PostgreSQL), asks `gatepost_core::changes` what it
//! becomes, and writes that with its events in the same transaction.

use crate::outbox::insert_events;
use crate::queries::{
    ABANDONED_CHALLENGES, ATTEMPT_BY_ID, ATTEMPTS_DUE_FOR_POLL, MERCHANT_FOR_CHECKOUT, PAYMENT_BY_CHECKOUT_TOKEN,
    PAYMENT_BY_ID, PAYMENT_BY_ID_FOR_ANY_MERCHANT, PAYMENTS_DUE_TO_EXPIRE, RESCHEDULE_POLL,
};
use crate::refunds::{attach_refunds, captured_ids, refund_from_row, refunds_of_sql};
use crate::rows::{
    Row, attach_attempts, attempt_from_row, attempts_of_sql, into_page, list_payments_sql, payment_from_row,
};
use crate::tx::Tx;
use crate::values::{Columns, Value, attempt_result, attempt_row, payment_state};
use crate::{AttemptStart, Checkout, DueAttempt, Page, PaymentQuery, StoreError};
use gatepost_core::changes::{NewAttempt, Reporter, SettledAttempt, Settlement};
use gatepost_core::ids::{AttemptId, MerchantId, PaymentId};
use gatepost_core::payment::Payment;
use gatepost_core::signing::WebhookSecret;
use gatepost_core::status::{PaymentEvent, PaymentStatus};
use gatepost_core::time::Timestamp;

/// The result of a change to a payment.
#[derive(Debug)]
pub enum ChangeOutcome {
    /// The change was stored; the payment as it is now, and its status before.
    Applied { payment: Payment, from: PaymentStatus },
    /// The payment cannot take the change; it is unchanged.
    Rejected(Payment),
    /// No such payment for this merchant.
    NotFound,
}

/// Payments with their attempts and refunds.
pub(crate) async fn payments_with_attempts(
    tx: &mut dyn Tx,
    sql: &str,
    values: &[Value],
) -> Result<Vec<Payment>, StoreError> {
    let mut payments = tx.query(sql, values, payment_from_row).await?;
    if !payments.is_empty() {
        let ids: Vec<Value> = payments.iter().map(|p| p.id.as_str().into()).collect();
        let attempts = tx.query(&attempts_of_sql(ids.len()), &ids, attempt_from_row).await?;
        attach_attempts(&mut payments, attempts);
        let captured = captured_ids(&payments);
        if !captured.is_empty() {
            let refunds = tx.query(&refunds_of_sql(captured.len()), &captured, refund_from_row).await?;
            attach_refunds(&mut payments, refunds);
        }
    }
    Ok(payments)
}

/// One payment, scoped to `merchant` when given. `lock` keeps it locked for the rest of
/// the transaction, for a change.
pub(crate) async fn payment_by_id(
    tx: &mut dyn Tx,
    merchant: Option<&MerchantId>,
    id: &PaymentId,
    lock: bool,
) -> Result<Option<Payment>, StoreError> {
    let (sql, values): (&str, Vec<Value>) = match merchant {
        Some(merchant) => (PAYMENT_BY_ID, vec![id.as_str().into(), merchant.as_str().into()]),
        None => (PAYMENT_BY_ID_FOR_ANY_MERCHANT, vec![id.as_str().into()]),
    };
    let sql = if lock { format!("{sql}{}", tx.dialect().lock_for_update()) } else { sql.to_owned() };
    Ok(payments_with_attempts(tx, &sql, &values).await?.into_iter().next())
}

/// Inserts a new payment's row, made by the caller with `values::payment_row`: outside
/// the transaction, so that SQLite's one writer thread does not serialize the payment.
pub(crate) async fn create_payment(tx: &mut dyn Tx, row: Columns) -> Result<(), StoreError> {
    tx.insert("payments", row).await.map(drop)
}

pub(crate) async fn payment(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    id: PaymentId,
) -> Result<Option<Payment>, StoreError> {
    payment_by_id(tx, Some(&merchant), &id, false).await
}

pub(crate) async fn list_payments(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    query: PaymentQuery,
) -> Result<Page<Payment>, StoreError> {
    let (sql, filters) = list_payments_sql(&query);
    let mut values: Vec<Value> = vec![merchant.as_str().into()];
    values.extend(filters);
    Ok(into_page(payments_with_attempts(tx, &sql, &values).await?, query.limit))
}

/// See `Store::apply`.
pub(crate) async fn apply(
    tx: &mut dyn Tx,
    merchant: Option<MerchantId>,
    id: PaymentId,
    event: PaymentEvent,
    now: Timestamp,
) -> Result<ChangeOutcome, StoreError> {
    let Some(mut payment) = payment_by_id(tx, merchant.as_ref(), &id, true).await? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let from = payment.status;
    let Ok(events) = payment.apply(event, now) else {
        return Ok(ChangeOutcome::Rejected(payment));
    };
    update_payment(tx, &payment).await?;
    insert_events(tx, &payment, &events).await?;
    Ok(ChangeOutcome::Applied { payment, from })
}

/// Writes what a change made of `payment`.
pub(crate) async fn update_payment(tx: &mut dyn Tx, payment: &Payment) -> Result<(), StoreError> {
    tx.update("payments", ("id", payment.id.as_str().into()), payment_state(payment)).await.map(drop)
}

/// The merchant columns a checkout needs.
fn checkout_parts(row: &dyn Row) -> Result<(String, WebhookSecret, String), StoreError> {
    let secret = row.text("webhook_secret")?;
    let webhook_secret = WebhookSecret::parse(&secret).ok_or_else(|| StoreError::Corrupt("webhook secret".into()))?;
    Ok((row.text("name")?, webhook_secret, row.text("connector")?))
}

pub(crate) async fn checkout(tx: &mut dyn Tx, token: String) -> Result<Option<Checkout>, StoreError> {
    let Some(payment) = payments_with_attempts(tx, PAYMENT_BY_CHECKOUT_TOKEN, &[token.into()]).await?.pop() else {
        return Ok(None);
    };
    let merchant = [payment.merchant_id.as_str().into()];
    let Some((merchant_name, webhook_secret, connector)) =
        tx.query_one(MERCHANT_FOR_CHECKOUT, &merchant, checkout_parts).await?
    else {
        return Err(StoreError::Corrupt(format!("payment {} has no merchant", payment.id)));
    };
    Ok(Some(Checkout { payment, merchant_name, webhook_secret, connector }))
}

/// See `Store::start_attempt`.
pub(crate) async fn start_attempt(
    tx: &mut dyn Tx,
    id: PaymentId,
    form_token: String,
    attempt: NewAttempt,
    now: Timestamp,
) -> Result<AttemptStart, StoreError> {
    let Some(mut payment) = payment_by_id(tx, None, &id, true).await? else {
        return Ok(AttemptStart::NotFound);
    };
    let Some(started) = payment.start_attempt(&form_token, attempt, now) else {
        return Ok(AttemptStart::Stale(payment));
    };
    tx.insert("attempts", attempt_row(&payment.id, &started.attempt, Some(started.answer_due))).await?;
    update_payment(tx, &payment).await?;
    Ok(AttemptStart::Started(payment))
}

/// Records an attempt's result reported by `reporter` (see `Store::settle_attempt`).
pub(crate) async fn settle_attempt(
    tx: &mut dyn Tx,
    attempt_id: &AttemptId,
    reporter: Reporter<'_>,
    settlement: Settlement,
    now: Timestamp,
) -> Result<ChangeOutcome, StoreError> {
    let Some(found) = tx.query_one(ATTEMPT_BY_ID, &[attempt_id.as_str().into()], attempt_from_row).await? else {
        return Ok(ChangeOutcome::NotFound);
    };
    // The payment is locked, and its attempts read again under the lock: the attempt may
    // have settled since the first look.
    let Some(mut payment) = payment_by_id(tx, None, &found.payment_id, true).await? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let from = payment.status;
    let Some(SettledAttempt { attempt, next_poll_at, events }) =
        payment.settle_attempt(attempt_id, reporter, settlement, now)
    else {
        return Ok(ChangeOutcome::Rejected(payment));
    };
    tx.update("attempts", ("id", attempt.id.as_str().into()), attempt_result(&attempt, next_poll_at, now)).await?;
    update_payment(tx, &payment).await?;
    insert_events(tx, &payment, &events).await?;
    Ok(ChangeOutcome::Applied { payment, from })
}

/// The `$1` time and `$2` limit of the due lists.
fn due(now: Timestamp, limit: u32) -> [Value; 2] {
    [now.millis().into(), i64::from(limit).into()]
}

pub(crate) async fn payments_due_to_expire(
    tx: &mut dyn Tx,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<PaymentId>, StoreError> {
    tx.query(PAYMENTS_DUE_TO_EXPIRE, &due(now, limit), |r| Ok(PaymentId::from_trusted(r.text("id")?))).await
}

/// Attempts found by `sql`, one of the due lists.
async fn due_attempts(tx: &mut dyn Tx, sql: &str, now: Timestamp, limit: u32) -> Result<Vec<DueAttempt>, StoreError> {
    let rows = tx.query(sql, &due(now, limit), attempt_from_row).await?;
    Ok(rows.into_iter().map(|row| DueAttempt { payment_id: row.payment_id, attempt: row.attempt }).collect())
}

pub(crate) async fn attempts_due_for_poll(
    tx: &mut dyn Tx,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<DueAttempt>, StoreError> {
    due_attempts(tx, ATTEMPTS_DUE_FOR_POLL, now, limit).await
}

pub(crate) async fn abandoned_challenges(
    tx: &mut dyn Tx,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<DueAttempt>, StoreError> {
    due_attempts(tx, ABANDONED_CHALLENGES, now, limit).await
}

pub(crate) async fn reschedule_poll(tx: &mut dyn Tx, attempt: AttemptId, at: Timestamp) -> Result<(), StoreError> {
    tx.execute(RESCHEDULE_POLL, &[attempt.as_str().into(), at.millis().into()]).await.map(drop)
}
