//! The merchant's operations on a payment the acquirer has seen: capture, cancel (a void
//! while funds are reserved) and refunds (docs/reference/payments.md#capture).
//!
//! Captures and voids ask the acquirer first and record after: the acquirer decides
//! races between them (one of a capture and a void of the same authorization wins), and
//! the status machine then refuses whatever lost. Refunds are recorded first, as
//! `PENDING` with their amount reserved under the payment's row lock, so concurrent
//! refunds can never add up to more than was captured, and a refund whose answer was lost
//! is asked about again.

use super::{FlowError, connector_named};
use crate::AppState;
use gatepost_connectors::{Connector, ConnectorError, OperationOutcome, RefundAnswer, RefundOutcome, RefundRequest};
use gatepost_core::changes::{NewRefund, RefundSettlement};
use gatepost_core::ids::{MerchantId, PaymentId, RefundId};
use gatepost_core::money::Currency;
use gatepost_core::names::Named as _;
use gatepost_core::payment::{Attempt, AttemptStatus, Payment, Refund, RefundStatus};
use gatepost_core::status::{PaymentEvent, PaymentStatus};
use gatepost_core::time::Timestamp;
use gatepost_store::{ChangeOutcome, RefundStart};

/// Why an operation was not done.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OperationError {
    #[error("no such payment")]
    NotFound,
    /// The payment's status does not allow it (409 `invalid_state`).
    #[error("{0}")]
    InvalidState(String),
    /// Not now: a card attempt waits for its answer (409 `invalid_state`, asking the
    /// client to try again shortly, so never replayed for its idempotency key).
    #[error("{0}")]
    InProgress(String),
    /// A capture of more than was authorized.
    #[error("the amount is more than the {authorized} authorized")]
    ExceedsAuthorized { authorized: i64 },
    /// Refunds would exceed the captured amount (422 `refund_exceeds_captured`).
    #[error("only {refundable} can still be refunded")]
    ExceedsCaptured { refundable: i64 },
    /// The acquirer said no.
    #[error("the acquirer refused: {message} ({code})")]
    Refused { code: String, message: String },
    /// The acquirer could not be reached; nothing changed, and asking again is safe.
    #[error("the acquirer is unavailable: {0}")]
    Unavailable(ConnectorError),
    #[error(transparent)]
    Flow(#[from] FlowError),
}

impl From<gatepost_store::StoreError> for OperationError {
    fn from(error: gatepost_store::StoreError) -> Self {
        Self::Flow(error.into())
    }
}

/// The attempt whose authorization a capture, void or refund applies to, with its
/// connector.
fn authorization(
    state: &AppState,
    payment: &Payment,
) -> Result<(Attempt, std::sync::Arc<dyn Connector>), OperationError> {
    let attempt = payment
        .attempts
        .iter()
        .rev()
        .find(|a| a.status == AttemptStatus::Succeeded && a.connector_reference.is_some())
        .cloned()
        .ok_or_else(|| OperationError::InvalidState("The payment has no authorization at the acquirer.".to_owned()))?;
    let connector = connector_named(state, &attempt.connector)?;
    Ok((attempt, connector))
}

async fn load(state: &AppState, merchant: &MerchantId, id: &PaymentId) -> Result<Payment, OperationError> {
    state.store().payment(merchant, id).await?.ok_or(OperationError::NotFound)
}

fn status_refuses(payment: &Payment, what: &str) -> OperationError {
    if payment.status == PaymentStatus::Open && payment.has_attempt_in_flight() {
        return OperationError::InProgress(format!(
            "A card attempt is in progress; the payment cannot be {what} until it has its answer. Retry shortly."
        ));
    }
    OperationError::InvalidState(format!("A payment in status {} cannot be {what}.", payment.status))
}

fn acquirer_answer(answer: Result<OperationOutcome, ConnectorError>) -> Result<(), OperationError> {
    match answer {
        Ok(OperationOutcome::Done) => Ok(()),
        Ok(OperationOutcome::Refused { code, message }) => Err(OperationError::Refused { code, message }),
        Err(error) => Err(OperationError::Unavailable(error)),
    }
}

/// Stores a status change the acquirer already agreed to.
async fn record(
    state: &AppState,
    merchant: &MerchantId,
    id: &PaymentId,
    event: PaymentEvent,
    what: &str,
) -> Result<(Payment, PaymentStatus), OperationError> {
    match state.apply(Some(merchant), id, event).await? {
        ChangeOutcome::Applied { payment, from } => Ok((payment, from)),
        ChangeOutcome::Rejected(payment) => Err(status_refuses(&payment, what)),
        ChangeOutcome::NotFound => Err(OperationError::NotFound),
    }
}

/// Captures `amount` (all of it when `None`) of an `AUTHORIZED` payment.
pub(crate) async fn capture(
    state: &AppState,
    merchant: &MerchantId,
    id: &PaymentId,
    amount: Option<i64>,
) -> Result<Payment, OperationError> {
    let payment = load(state, merchant, id).await?;
    if payment.status != PaymentStatus::Authorized {
        return Err(status_refuses(&payment, "captured"));
    }
    let amount = amount.unwrap_or(payment.amount);
    if amount > payment.amount {
        return Err(OperationError::ExceedsAuthorized { authorized: payment.amount });
    }
    let (attempt, connector) = authorization(state, &payment)?;
    let reference = attempt.connector_reference.as_deref().unwrap_or_default();
    acquirer_answer(connector.capture(reference, amount, payment.currency).await)?;
    let (payment, _) = record(state, merchant, id, PaymentEvent::Capture { amount }, "captured").await?;
    tracing::info!(payment = %payment.id, amount, "payment captured");
    Ok(payment)
}

/// Cancels an `OPEN` payment, or voids an `AUTHORIZED` one at the acquirer first.
pub(crate) async fn cancel(state: &AppState, merchant: &MerchantId, id: &PaymentId) -> Result<Payment, OperationError> {
    let payment = load(state, merchant, id).await?;
    let voided = payment.status == PaymentStatus::Authorized;
    if voided {
        let (attempt, connector) = authorization(state, &payment)?;
        acquirer_answer(connector.void(attempt.connector_reference.as_deref().unwrap_or_default()).await)?;
    }
    let (payment, from) = record(state, merchant, id, PaymentEvent::Cancel, "cancelled").await?;
    if from == PaymentStatus::Authorized && !voided {
        // Authorized by a callback between the look above and the change: release the funds.
        // The cancel itself is done; a void that fails is logged, not answered.
        let released = match authorization(state, &payment) {
            Ok((attempt, connector)) => {
                acquirer_answer(connector.void(attempt.connector_reference.as_deref().unwrap_or_default()).await)
            }
            Err(error) => Err(error),
        };
        if let Err(error) = released {
            tracing::warn!(payment = %payment.id, %error, "cancelled authorization not voided");
        }
    }
    Ok(payment)
}

/// The request that refunds `refund`, first time or again.
pub(super) fn refund_request<'a>(refund: &'a Refund, authorization: &'a str, currency: Currency) -> RefundRequest<'a> {
    RefundRequest {
        refund_id: &refund.id,
        payment_id: &refund.payment_id,
        authorization,
        amount: refund.amount,
        currency,
    }
}

/// What the connector's answer to a refund means. An unanswered request leaves the
/// refund `PENDING`, to be sent again after the connector's first poll delay.
pub(super) fn refund_settlement(
    answer: Result<RefundAnswer, ConnectorError>,
    connector: &dyn Connector,
    now: Timestamp,
) -> RefundSettlement {
    let pending = |reference| RefundSettlement {
        status: RefundStatus::Pending,
        connector_reference: reference,
        failure_code: None,
        next_poll_at: Some(now.plus(connector.first_poll_after())),
    };
    match answer {
        Ok(RefundAnswer { reference, outcome: RefundOutcome::Succeeded }) => RefundSettlement {
            status: RefundStatus::Succeeded,
            connector_reference: Some(reference),
            failure_code: None,
            next_poll_at: None,
        },
        Ok(RefundAnswer { reference, outcome: RefundOutcome::Failed { code, .. } }) => RefundSettlement {
            status: RefundStatus::Failed,
            connector_reference: Some(reference),
            failure_code: Some(code),
            next_poll_at: None,
        },
        Ok(RefundAnswer { reference, outcome: RefundOutcome::Pending }) => pending(Some(reference)),
        Err(error) => {
            tracing::warn!(%error, "refund request unanswered; it will be sent again");
            pending(None)
        }
    }
}

/// Refunds `amount` (all that is left when `None`) of a `SUCCESS` payment.
pub(crate) async fn refund(
    state: &AppState,
    merchant: &MerchantId,
    id: &PaymentId,
    amount: Option<i64>,
    reason: Option<String>,
) -> Result<Refund, OperationError> {
    let payment = load(state, merchant, id).await?;
    if payment.status != PaymentStatus::Success {
        return Err(status_refuses(&payment, "refunded"));
    }
    let (attempt, connector) = authorization(state, &payment)?;
    let new = NewRefund { id: RefundId::generate(), amount, reason, connector: attempt.connector.clone() };
    let refund = match state.store().start_refund(merchant, id, new, state.clock().now()).await? {
        RefundStart::Started(refund) => refund,
        RefundStart::InvalidState(status) => {
            return Err(OperationError::InvalidState(format!("A payment in status {status} cannot be refunded.")));
        }
        RefundStart::ExceedsCaptured { refundable } => return Err(OperationError::ExceedsCaptured { refundable }),
        RefundStart::NotFound => return Err(OperationError::NotFound),
    };
    let authorization = attempt.connector_reference.as_deref().unwrap_or_default();
    let answer = connector.refund(&refund_request(&refund, authorization, payment.currency)).await;
    let now = state.clock().now();
    let outcome =
        state.store().settle_refund(&refund.id, refund_settlement(answer, connector.as_ref(), now), now).await?;
    state.metrics().changed(&outcome);
    let current = match outcome {
        ChangeOutcome::Applied { payment, .. } | ChangeOutcome::Rejected(payment) => {
            payment.refunds.into_iter().find(|r| r.id == refund.id)
        }
        ChangeOutcome::NotFound => None,
    };
    let refund = current.unwrap_or(refund);
    tracing::info!(payment = %refund.payment_id, refund = %refund.id, status = refund.status.as_str(), "refund");
    Ok(refund)
}
