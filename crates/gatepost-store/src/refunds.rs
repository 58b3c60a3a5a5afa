//! Refunds: their rows, and each operation on them written once over [`Tx`]. What a
//! refund may be and what it does to its payment is decided in `gatepost_core::changes`.

use crate::StoreError;
use crate::outbox::insert_events;
use crate::payments::{ChangeOutcome, payment_by_id, update_payment};
use crate::rows::Row;
use crate::tx::Tx;
use crate::values::{Columns, Value};
use gatepost_core::changes::{NewRefund, RefundRefusal, RefundSettlement, Reporter, SettledRefund};
use gatepost_core::ids::{MerchantId, PaymentId, RefundId};
use gatepost_core::money::Currency;
use gatepost_core::names::Named as _;
use gatepost_core::payment::{Payment, Refund};
use gatepost_core::status::PaymentStatus;
use gatepost_core::time::Timestamp;

/// What [`crate::Store::start_refund`] found.
#[derive(Debug)]
pub enum RefundStart {
    /// The refund is recorded as `PENDING` and its amount reserved; it may go to the
    /// connector.
    Started(Refund),
    /// Only a `SUCCESS` payment can be refunded; this is the payment's status.
    InvalidState(PaymentStatus),
    /// The amount is more than what is still refundable (captured, less refunds that
    /// succeeded or are pending).
    ExceedsCaptured {
        refundable: i64,
    },
    NotFound,
}

/// A pending refund whose result is due to be asked for, with what asking again needs.
#[derive(Debug)]
pub struct DueRefund {
    pub refund: Refund,
    /// The connector reference of the captured attempt.
    pub authorization: String,
    pub currency: Currency,
}

/// The row of a new refund.
fn refund_row(refund: &Refund) -> Columns {
    let mut row: Columns = vec![
        ("id", refund.id.as_str().into()),
        ("payment_id", refund.payment_id.as_str().into()),
        ("amount", refund.amount.into()),
        ("reason", refund.reason.clone().into()),
        ("connector", refund.connector.as_str().into()),
        ("created_at", refund.created_at.millis().into()),
    ];
    row.extend(refund_result(refund, None, refund.created_at));
    row
}

/// The columns a refund's result rewrites.
fn refund_result(refund: &Refund, next_poll_at: Option<Timestamp>, now: Timestamp) -> Columns {
    vec![
        ("status", refund.status.as_str().into()),
        ("failure_code", refund.failure_code.clone().into()),
        ("connector_reference", refund.connector_reference.clone().into()),
        ("next_poll_at", next_poll_at.map(Timestamp::millis).into()),
        ("updated_at", now.millis().into()),
    ]
}

const REFUND_BY_ID: &str = "SELECT * FROM refunds WHERE id = $1";

/// Pending refunds due for a poll, with the authorization they refund.
const REFUNDS_DUE_FOR_POLL: &str = "SELECT r.*, p.currency AS payment_currency, \
    a.connector_reference AS authorization_reference \
    FROM refunds r JOIN payments p ON p.id = r.payment_id \
    JOIN attempts a ON a.payment_id = r.payment_id AND a.status = 'SUCCEEDED' \
    WHERE r.status = 'PENDING' AND r.next_poll_at <= $1 ORDER BY r.next_poll_at LIMIT $2";

const RESCHEDULE_REFUND_POLL: &str = "UPDATE refunds SET next_poll_at = $2 WHERE id = $1 AND status = 'PENDING'";

pub(crate) fn refund_from_row(row: &dyn Row) -> Result<Refund, StoreError> {
    Ok(Refund {
        id: RefundId::from_trusted(row.text("id")?),
        object: "refund",
        payment_id: PaymentId::from_trusted(row.text("payment_id")?),
        amount: row.int("amount")?,
        status: row.named("status")?,
        reason: row.opt_text("reason")?,
        failure_code: row.opt_text("failure_code")?,
        created_at: row.time("created_at")?,
        connector: row.text("connector")?,
        connector_reference: row.opt_text("connector_reference")?,
    })
}

fn due_refund_from_row(row: &dyn Row) -> Result<DueRefund, StoreError> {
    let currency = row.text("payment_currency")?;
    Ok(DueRefund {
        refund: refund_from_row(row)?,
        authorization: row.opt_text("authorization_reference")?.unwrap_or_default(),
        currency: Currency::parse(&currency).ok_or_else(|| StoreError::Corrupt(format!("currency {currency}")))?,
    })
}

/// `SELECT` of the refunds of several payments, oldest first.
pub(crate) fn refunds_of_sql(count: usize) -> String {
    let placeholders: Vec<String> = (1..=count).map(|n| format!("${n}")).collect();
    format!("SELECT * FROM refunds WHERE payment_id IN ({}) ORDER BY payment_id, id", placeholders.join(", "))
}

/// The payments that can have refunds: only captured money is ever refunded, so the
/// refunds of an uncaptured payment (every payment on the hosted page's hot path) need no
/// query.
pub(crate) fn captured_ids(payments: &[Payment]) -> Vec<Value> {
    payments.iter().filter(|p| p.amount_captured > 0).map(|p| p.id.as_str().into()).collect()
}

/// Hands each payment its refunds.
pub(crate) fn attach_refunds(payments: &mut [Payment], refunds: Vec<Refund>) {
    for refund in refunds {
        if let Some(payment) = payments.iter_mut().find(|p| p.id == refund.payment_id) {
            payment.refunds.push(refund);
        }
    }
}

impl From<RefundRefusal> for RefundStart {
    fn from(refusal: RefundRefusal) -> Self {
        match refusal {
            RefundRefusal::InvalidState(status) => Self::InvalidState(status),
            RefundRefusal::ExceedsCaptured { refundable } => Self::ExceedsCaptured { refundable },
        }
    }
}

/// See `Store::start_refund`: the payment is locked while its refundable amount is
/// checked and the refund reserves its part.
pub(crate) async fn start_refund(
    tx: &mut dyn Tx,
    merchant: MerchantId,
    payment: PaymentId,
    refund: NewRefund,
    now: Timestamp,
) -> Result<RefundStart, StoreError> {
    let Some(mut payment) = payment_by_id(tx, Some(&merchant), &payment, true).await? else {
        return Ok(RefundStart::NotFound);
    };
    match payment.reserve_refund(refund, now) {
        Ok(refund) => {
            tx.insert("refunds", refund_row(&refund)).await?;
            Ok(RefundStart::Started(refund))
        }
        Err(refused) => Ok(refused.into()),
    }
}

/// Records a refund's result reported by `reporter` (see `Store::settle_refund`).
pub(crate) async fn settle_refund(
    tx: &mut dyn Tx,
    refund_id: &RefundId,
    reporter: Reporter<'_>,
    settlement: RefundSettlement,
    now: Timestamp,
) -> Result<ChangeOutcome, StoreError> {
    let Some(found) = tx.query_one(REFUND_BY_ID, &[refund_id.as_str().into()], refund_from_row).await? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let Some(mut payment) = payment_by_id(tx, None, &found.payment_id, true).await? else {
        return Ok(ChangeOutcome::NotFound);
    };
    let from = payment.status;
    let Some(SettledRefund { refund, next_poll_at, events }) =
        payment.settle_refund(refund_id, reporter, settlement, now)
    else {
        return Ok(ChangeOutcome::Rejected(payment));
    };
    tx.update("refunds", ("id", refund.id.as_str().into()), refund_result(&refund, next_poll_at, now)).await?;
    update_payment(tx, &payment).await?;
    insert_events(tx, &payment, &events).await?;
    Ok(ChangeOutcome::Applied { payment, from })
}

pub(crate) async fn refunds_due_for_poll(
    tx: &mut dyn Tx,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<DueRefund>, StoreError> {
    tx.query(REFUNDS_DUE_FOR_POLL, &[now.millis().into(), i64::from(limit).into()], due_refund_from_row).await
}

pub(crate) async fn reschedule_refund_poll(tx: &mut dyn Tx, refund: RefundId, at: Timestamp) -> Result<(), StoreError> {
    tx.execute(RESCHEDULE_REFUND_POLL, &[refund.as_str().into(), at.millis().into()]).await.map(drop)
}
