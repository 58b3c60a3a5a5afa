//! Refunds and provider callbacks, decided once for both backends: the rows they write,
//! how they are read back, and what they do to their payment.

use crate::change::{Reporter, plan};
use crate::rows::Row;
use crate::values::{Value, insert_sql};
use crate::{StoreError, change::ChangeOutcome};
use gatepost_core::ids::{PaymentId, RefundId};
use gatepost_core::money::Currency;
use gatepost_core::payment::{Payment, Refund, RefundStatus};
use gatepost_core::status::{PaymentEvent, PaymentStatus};
use gatepost_core::time::Timestamp;
use std::sync::LazyLock;

/// A refund the merchant asked for, before any check.
#[derive(Debug)]
pub struct NewRefund {
    pub id: RefundId,
    /// `None` refunds everything still refundable.
    pub amount: Option<i64>,
    pub reason: Option<String>,
    pub connector: String,
}

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

/// The result of a refund, to be recorded with its effect on the payment.
#[derive(Debug)]
pub struct RefundSettlement {
    pub status: RefundStatus,
    pub connector_reference: Option<String>,
    pub failure_code: Option<String>,
    /// When to ask the connector about a pending refund.
    pub next_poll_at: Option<Timestamp>,
}

/// A pending refund whose result is due to be asked for, with what asking again needs.
#[derive(Debug)]
pub struct DueRefund {
    pub refund: Refund,
    /// The connector reference of the captured attempt.
    pub authorization: String,
    pub currency: Currency,
}

/// Which provider notification this is: a callback is applied once per id
/// (docs/reference/callbacks.md#callbacks).
#[derive(Clone, Debug)]
pub struct CallbackReceipt {
    pub connector: String,
    pub id: String,
}

/// What a provider callback asks to record.
#[derive(Debug)]
pub enum CallbackChange {
    Attempt(gatepost_core::ids::AttemptId, crate::Settlement),
    Refund(RefundId, RefundSettlement),
}

/// What became of a provider callback.
#[derive(Debug)]
pub enum CallbackResult {
    /// This provider event id was received before: nothing changed.
    Duplicate,
    /// First receipt: the change as the status machine took it.
    Processed(Box<ChangeOutcome>),
}

const REFUND_COLUMNS: [&str; 11] = [
    "id",
    "payment_id",
    "amount",
    "status",
    "reason",
    "failure_code",
    "connector",
    "connector_reference",
    "next_poll_at",
    "created_at",
    "updated_at",
];

pub(crate) static INSERT_REFUND: LazyLock<String> = LazyLock::new(|| insert_sql("refunds", &REFUND_COLUMNS));

pub(crate) fn refund_values(refund: &Refund) -> Vec<Value> {
    vec![
        refund.id.as_str().into(),
        refund.payment_id.as_str().into(),
        refund.amount.into(),
        refund.status.as_str().into(),
        refund.reason.clone().into(),
        refund.failure_code.clone().into(),
        refund.connector.as_str().into(),
        refund.connector_reference.clone().into(),
        Value::Int(None),
        refund.created_at.millis().into(),
        refund.created_at.millis().into(),
    ]
}

pub(crate) const UPDATE_REFUND: &str = "UPDATE refunds SET status = $2, failure_code = $3, \
    connector_reference = $4, next_poll_at = $5, updated_at = $6 WHERE id = $1";

fn refund_update_values(refund: &Refund, next_poll_at: Option<Timestamp>, now: Timestamp) -> Vec<Value> {
    vec![
        refund.id.as_str().into(),
        refund.status.as_str().into(),
        refund.failure_code.clone().into(),
        refund.connector_reference.clone().into(),
        next_poll_at.map(Timestamp::millis).into(),
        now.millis().into(),
    ]
}

pub(crate) const REFUND_BY_ID: &str = "SELECT * FROM refunds WHERE id = $1";

/// Pending refunds due for a poll, with the authorization they refund.
pub(crate) const REFUNDS_DUE_FOR_POLL: &str = "SELECT r.*, p.currency AS payment_currency, \
    a.connector_reference AS authorization_reference \
    FROM refunds r JOIN payments p ON p.id = r.payment_id \
    JOIN attempts a ON a.payment_id = r.payment_id AND a.status = 'SUCCEEDED' \
    WHERE r.status = 'PENDING' AND r.next_poll_at <= $1 ORDER BY r.next_poll_at LIMIT $2";

pub(crate) const RESCHEDULE_REFUND_POLL: &str =
    "UPDATE refunds SET next_poll_at = $2 WHERE id = $1 AND status = 'PENDING'";

/// Records a callback's first receipt; affects no row when its id was seen before.
pub(crate) const INSERT_CALLBACK: &str = "INSERT INTO provider_callbacks \
    (connector, provider_event_id, subject_id, result, times_received, first_received_at, last_received_at) \
    VALUES ($1, $2, $3, 'received', 1, $4, $4) ON CONFLICT (connector, provider_event_id) DO NOTHING";
pub(crate) const CALLBACK_RECEIVED_AGAIN: &str = "UPDATE provider_callbacks \
    SET times_received = times_received + 1, last_received_at = $3 \
    WHERE connector = $1 AND provider_event_id = $2";
pub(crate) const CALLBACK_RESULT: &str =
    "UPDATE provider_callbacks SET result = $3 WHERE connector = $1 AND provider_event_id = $2";

pub(crate) fn callback_insert_values(receipt: &CallbackReceipt, subject: &str, now: Timestamp) -> Vec<Value> {
    vec![receipt.connector.as_str().into(), receipt.id.as_str().into(), subject.into(), now.millis().into()]
}

pub(crate) fn callback_again_values(receipt: &CallbackReceipt, now: Timestamp) -> Vec<Value> {
    vec![receipt.connector.as_str().into(), receipt.id.as_str().into(), now.millis().into()]
}

/// How a processed callback is remembered.
pub(crate) fn callback_result_values(receipt: &CallbackReceipt, outcome: &ChangeOutcome) -> Vec<Value> {
    let result = match outcome {
        ChangeOutcome::Applied { .. } => "applied",
        ChangeOutcome::Rejected(_) => "ignored",
        ChangeOutcome::NotFound => "unknown",
    };
    vec![receipt.connector.as_str().into(), receipt.id.as_str().into(), result.into()]
}

impl CallbackChange {
    /// The id of the attempt or refund the callback is about.
    pub(crate) fn subject(&self) -> &str {
        match self {
            Self::Attempt(id, _) => id.as_str(),
            Self::Refund(id, _) => id.as_str(),
        }
    }
}

pub(crate) fn refund_from_row(row: &impl Row) -> Result<Refund, StoreError> {
    let status = row.text("status")?;
    Ok(Refund {
        id: RefundId::from_trusted(row.text("id")?),
        object: "refund",
        payment_id: PaymentId::from_trusted(row.text("payment_id")?),
        amount: row.int("amount")?,
        status: RefundStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("refund status {status}")))?,
        reason: row.opt_text("reason")?,
        failure_code: row.opt_text("failure_code")?,
        created_at: row.time("created_at")?,
        connector: row.text("connector")?,
        connector_reference: row.opt_text("connector_reference")?,
    })
}

pub(crate) fn due_refund_from_row(row: &impl Row) -> Result<DueRefund, StoreError> {
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

/// Why a refund was not started.
#[derive(Debug)]
pub(crate) enum RefundRefusal {
    InvalidState(PaymentStatus),
    ExceedsCaptured { refundable: i64 },
}

impl From<RefundRefusal> for RefundStart {
    fn from(refusal: RefundRefusal) -> Self {
        match refusal {
            RefundRefusal::InvalidState(status) => Self::InvalidState(status),
            RefundRefusal::ExceedsCaptured { refundable } => Self::ExceedsCaptured { refundable },
        }
    }
}

/// Checks a refund against the locked, current `payment` and, when it fits, records it
/// as `PENDING` on the payment. Returns the refund's row to insert.
pub(crate) fn plan_refund_start(
    payment: &mut Payment,
    new: NewRefund,
    now: Timestamp,
) -> Result<Vec<Value>, RefundRefusal> {
    if payment.status != PaymentStatus::Success {
        return Err(RefundRefusal::InvalidState(payment.status));
    }
    let refundable = payment.refundable();
    let amount = new.amount.unwrap_or(refundable);
    if amount <= 0 || amount > refundable {
        return Err(RefundRefusal::ExceedsCaptured { refundable });
    }
    let refund = Refund {
        id: new.id,
        object: "refund",
        payment_id: payment.id.clone(),
        amount,
        status: RefundStatus::Pending,
        reason: new.reason,
        failure_code: None,
        created_at: now,
        connector: new.connector,
        connector_reference: None,
    };
    let row = refund_values(&refund);
    payment.refunds.push(refund);
    Ok(row)
}

/// What settling a refund writes: its row, and the payment's events.
pub(crate) struct RefundPlan {
    pub(crate) refund: Vec<Value>,
    pub(crate) events: Vec<Vec<Value>>,
}

/// Records a refund's result on the locked, current `payment`. A result for a refund
/// that is settled already, or a pending answer for one that has its connector's answer,
/// is late or repeated, and a callback of another connector or about another refund is
/// not its to settle: `None`. A refund that succeeded adds to `amount_refunded` and goes
/// through the status machine (`payment.refunded`, and `REFUNDED` once all is refunded).
pub(crate) fn plan_refund_settlement(
    payment: &mut Payment,
    refund_id: &RefundId,
    reporter: Reporter<'_>,
    settlement: RefundSettlement,
    now: Timestamp,
    default_webhook_url: Option<String>,
) -> Option<RefundPlan> {
    let refund = payment.refunds.iter_mut().find(|r| &r.id == refund_id)?;
    if refund.status != RefundStatus::Pending {
        return None;
    }
    if let Reporter::Callback(connector) = reporter
        && !refund.takes_callback_from(connector, settlement.connector_reference.as_deref())
    {
        return None;
    }
    if settlement.status == RefundStatus::Pending && refund.connector_reference.is_some() {
        return None;
    }
    refund.status = settlement.status;
    refund.failure_code = settlement.failure_code;
    if refund.connector_reference.is_none() {
        refund.connector_reference = settlement.connector_reference;
    }
    let row = refund_update_values(refund, settlement.next_poll_at, now);
    let amount = refund.amount;
    let mut events = Vec::new();
    if settlement.status == RefundStatus::Succeeded {
        payment.amount_refunded += amount;
        let fully = payment.amount_refunded >= payment.amount_captured;
        events = plan(payment, PaymentEvent::Refund { fully }, now, default_webhook_url).unwrap_or_default();
    }
    payment.updated_at = now;
    Some(RefundPlan { refund: row, events })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatepost_core::ids::MerchantId;
    use gatepost_core::money::Currency;
    use gatepost_core::payment::{CaptureMode, ReturnMethod, ReturnUrls};

    fn paid(amount: i64) -> Payment {
        let now = Timestamp::from_millis(1_800_000_000_000);
        Payment {
            id: PaymentId::generate(),
            object: "payment",
            merchant_id: MerchantId::generate(),
            status: PaymentStatus::Success,
            amount,
            currency: Currency::parse("EUR").unwrap(),
            amount_captured: amount,
            amount_refunded: 0,
            reference: None,
            description: None,
            customer: None,
            metadata: Default::default(),
            capture: CaptureMode::Automatic,
            max_attempts: 3,
            attempts_remaining: 2,
            checkout_url: String::new(),
            checkout_token: String::new(),
            return_url: None,
            return_urls: ReturnUrls::default(),
            return_method: ReturnMethod::Get,
            webhook_url: None,
            attempts: Vec::new(),
            refunds: Vec::new(),
            created_at: now,
            updated_at: now,
            expires_at: now,
            livemode: false,
            event_sequence: 2,
            form_token: String::new(),
            capture_before: None,
        }
    }

    fn new_refund(amount: Option<i64>) -> NewRefund {
        NewRefund { id: RefundId::generate(), amount, reason: None, connector: "sandbox".into() }
    }

    fn settle(payment: &mut Payment, status: RefundStatus) -> Option<RefundPlan> {
        let id = payment.refunds.last().unwrap().id.clone();
        let settlement = RefundSettlement { status, connector_reference: None, failure_code: None, next_poll_at: None };
        plan_refund_settlement(
            payment,
            &id,
            Reporter::Connector,
            settlement,
            Timestamp::from_millis(0),
            Some("https://m.example/".into()),
        )
    }

    #[test]
    fn pending_refunds_reserve_their_amount() {
        let mut payment = paid(1000);
        plan_refund_start(&mut payment, new_refund(Some(600)), Timestamp::from_millis(0)).unwrap();
        let refused = plan_refund_start(&mut payment, new_refund(Some(401)), Timestamp::from_millis(0)).unwrap_err();
        assert!(matches!(refused, RefundRefusal::ExceedsCaptured { refundable: 400 }));
        plan_refund_start(&mut payment, new_refund(None), Timestamp::from_millis(0)).unwrap();
        assert_eq!(payment.refunds.last().unwrap().amount, 400, "no amount refunds the rest");
        assert_eq!(payment.refundable(), 0);
    }

    #[test]
    fn a_failed_refund_frees_its_amount_and_writes_no_event() {
        let mut payment = paid(1000);
        plan_refund_start(&mut payment, new_refund(None), Timestamp::from_millis(0)).unwrap();
        let plan = settle(&mut payment, RefundStatus::Failed).unwrap();
        assert!(plan.events.is_empty());
        assert_eq!(payment.refundable(), 1000);
        assert_eq!(payment.amount_refunded, 0);
    }

    #[test]
    fn refunds_move_the_payment_once_all_is_refunded() {
        let mut payment = paid(1000);
        plan_refund_start(&mut payment, new_refund(Some(300)), Timestamp::from_millis(0)).unwrap();
        assert_eq!(settle(&mut payment, RefundStatus::Succeeded).unwrap().events.len(), 1);
        assert_eq!((payment.status, payment.amount_refunded), (PaymentStatus::Success, 300));
        plan_refund_start(&mut payment, new_refund(None), Timestamp::from_millis(0)).unwrap();
        assert_eq!(settle(&mut payment, RefundStatus::Succeeded).unwrap().events.len(), 1);
        assert_eq!((payment.status, payment.amount_refunded), (PaymentStatus::Refunded, 1000));
        assert!(settle(&mut payment, RefundStatus::Succeeded).is_none(), "a repeated result changes nothing");
    }

    #[test]
    fn only_paid_payments_refund() {
        let mut payment = paid(1000);
        payment.status = PaymentStatus::Authorized;
        let refused = plan_refund_start(&mut payment, new_refund(None), Timestamp::from_millis(0)).unwrap_err();
        assert!(matches!(refused, RefundRefusal::InvalidState(PaymentStatus::Authorized)));
    }
}
