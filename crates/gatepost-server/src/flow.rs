//! Card attempts from start to result, shared by the hosted page and the background
//! poller: claim the attempt, ask the connector (outside any transaction), then record
//! the result through the status machine.

use crate::AppState;
use gatepost_connectors::{AuthorizeRequest, Connector, ConnectorError, Outcome};
use gatepost_core::card::Card;
use gatepost_core::ids::{AttemptId, random_token};
use gatepost_core::payment::{AttemptEffect, AttemptStatus, Payment, ThreeDs};
use gatepost_core::status::PaymentEvent;
use gatepost_core::time::Timestamp;
use gatepost_store::{AttemptStart, ChangeOutcome, Checkout, NewAttempt, Settlement, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The connectors this gateway can use, by name (SPEC §8).
#[derive(Debug, Default, Clone)]
pub struct Connectors {
    by_name: HashMap<&'static str, Arc<dyn Connector>>,
}

impl Connectors {
    #[must_use]
    pub fn new(connectors: Vec<Arc<dyn Connector>>) -> Self {
        Self { by_name: connectors.into_iter().map(|c| (c.name(), c)).collect() }
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Arc<dyn Connector>> {
        self.by_name.get(name)
    }
}

/// Why a flow step could not run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FlowError {
    #[error("connector {0} is not configured")]
    UnknownConnector(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the attempt's task failed: {0}")]
    Aborted(String),
}

/// Runs `work` to its end even if the shopper's browser stops waiting for it: a double
/// click or a closed tab drops the request, and must not leave an attempt half done
/// (claimed, but never settled).
pub(crate) async fn to_completion<T: Send + 'static>(
    work: impl Future<Output = Result<T, FlowError>> + Send + 'static,
) -> Result<T, FlowError> {
    tokio::spawn(work).await.map_err(|error| FlowError::Aborted(error.to_string()))?
}

/// Where a card payment ended up.
#[derive(Debug)]
pub(crate) enum CardResult {
    /// The attempt ran; the payment as it is now.
    Done(Payment),
    /// The form had been used already (double click, back button): no attempt was made.
    Stale(Payment),
    NotFound,
}

/// 3-D Secure form tokens are single-use secrets like the payment form's.
const CHALLENGE_TOKEN_BYTES: usize = 18;

/// Makes one card attempt for the payment behind `checkout`, if `form_token` is current.
pub(crate) async fn pay_with_card(
    state: &AppState,
    checkout: &Checkout,
    form_token: &str,
    card: Card,
) -> Result<CardResult, FlowError> {
    let connector = state
        .connectors()
        .get(&checkout.connector)
        .ok_or_else(|| FlowError::UnknownConnector(checkout.connector.clone()))?
        .clone();
    let new = NewAttempt { id: AttemptId::generate(), card: card.summary(), connector: connector.name().to_owned() };
    let started = state.store().start_attempt(&checkout.payment.id, form_token, new, state.clock().now()).await?;
    let payment = match started {
        AttemptStart::Started(payment) => payment,
        AttemptStart::Stale(payment) => return Ok(CardResult::Stale(payment)),
        AttemptStart::NotFound => return Ok(CardResult::NotFound),
    };
    let attempt_id = payment.attempts.last().expect("a started attempt is the payment's last").id.clone();
    let request = AuthorizeRequest {
        payment_id: &payment.id,
        attempt_id: &attempt_id,
        amount: payment.amount,
        currency: payment.currency,
        capture: payment.capture,
        card: &card,
    };
    let answer = connector.authorize(&request).await;
    drop(card); // The card's number and CVC end here.
    let now = state.clock().now();
    let settlement = match answer {
        Ok(authorization) => {
            settlement_for(authorization.outcome, Some(authorization.reference), connector.as_ref(), now)
        }
        Err(error) => unreachable_acquirer(&error, &attempt_id),
    };
    settle(state, &attempt_id, None, settlement).await.map(|outcome| match outcome {
        Some(payment) => CardResult::Done(payment),
        None => CardResult::NotFound,
    })
}

/// The shopper answered the 3-D Secure challenge of the payment's waiting attempt.
pub(crate) async fn complete_challenge(
    state: &AppState,
    payment: &Payment,
    challenge_token: &str,
    authenticated: bool,
) -> Result<CardResult, FlowError> {
    let Some(attempt) = payment.attempts.iter().find(|a| a.status == AttemptStatus::ActionRequired) else {
        return Ok(CardResult::Stale(payment.clone()));
    };
    if attempt.challenge_token.as_deref() != Some(challenge_token) {
        return Ok(CardResult::Stale(payment.clone()));
    }
    let connector = state
        .connectors()
        .get(&attempt.connector)
        .ok_or_else(|| FlowError::UnknownConnector(attempt.connector.clone()))?
        .clone();
    let reference = attempt.connector_reference.clone().unwrap_or_default();
    let answer = connector.complete_challenge(&reference, authenticated).await;
    let now = state.clock().now();
    let mut settlement = match answer {
        Ok(outcome) => settlement_for(outcome, None, connector.as_ref(), now),
        Err(error) => unreachable_acquirer(&error, &attempt.id),
    };
    settlement.three_ds =
        ThreeDs { required: true, result: Some(if authenticated { "AUTHENTICATED" } else { "FAILED" }.to_owned()) };
    match settle(state, &attempt.id, Some(challenge_token), settlement).await? {
        Some(payment) => Ok(CardResult::Done(payment)),
        None => Ok(CardResult::NotFound),
    }
}

/// Records a result; `None` when the attempt is unknown. A result that was ignored
/// (late, repeated, or for a form already used) leaves the payment as it is.
async fn settle(
    state: &AppState,
    attempt: &AttemptId,
    challenge_token: Option<&str>,
    settlement: Settlement,
) -> Result<Option<Payment>, FlowError> {
    let now = state.clock().now();
    let outcome = state.store().settle_attempt(attempt, challenge_token, settlement, now).await?;
    state.metrics().changed(&outcome);
    Ok(match outcome {
        ChangeOutcome::Applied { payment, .. } | ChangeOutcome::Rejected(payment) => Some(payment),
        ChangeOutcome::NotFound => None,
    })
}

/// What an acquirer's answer means for the attempt and the payment.
fn settlement_for(
    outcome: Outcome,
    reference: Option<String>,
    connector: &dyn Connector,
    now: Timestamp,
) -> Settlement {
    let base = Settlement {
        status: AttemptStatus::Succeeded,
        decline_code: None,
        decline_message: None,
        three_ds: ThreeDs::default(),
        connector_reference: reference,
        challenge_token: None,
        next_poll_at: None,
        effect: AttemptEffect::Approved,
    };
    match outcome {
        Outcome::Approved => base,
        Outcome::Declined { code, message } => Settlement {
            status: AttemptStatus::Declined,
            decline_code: Some(code),
            decline_message: Some(message),
            effect: AttemptEffect::Failed,
            ..base
        },
        Outcome::Error { code, message } => Settlement {
            status: AttemptStatus::Error,
            decline_code: Some(code),
            decline_message: Some(message),
            effect: AttemptEffect::Failed,
            ..base
        },
        Outcome::ChallengeRequired => Settlement {
            status: AttemptStatus::ActionRequired,
            three_ds: ThreeDs { required: true, result: None },
            challenge_token: Some(random_token(CHALLENGE_TOKEN_BYTES)),
            effect: AttemptEffect::Pending,
            ..base
        },
        Outcome::Pending => Settlement {
            status: AttemptStatus::Pending,
            next_poll_at: Some(after(now, connector.first_poll_after())),
            effect: AttemptEffect::Pending,
            ..base
        },
    }
}

/// An acquirer that could not be reached makes the attempt an `ERROR`: it counts, and
/// the shopper may retry.
fn unreachable_acquirer(error: &ConnectorError, attempt: &AttemptId) -> Settlement {
    tracing::warn!(%error, %attempt, "connector call failed");
    Settlement {
        status: AttemptStatus::Error,
        decline_code: Some("processing_error".to_owned()),
        decline_message: Some("The payment could not be processed. Try again.".to_owned()),
        three_ds: ThreeDs::default(),
        connector_reference: None,
        challenge_token: None,
        next_poll_at: None,
        effect: AttemptEffect::Failed,
    }
}

/// The result of a 3-D Secure challenge the shopper never answered.
fn abandoned_challenge() -> Settlement {
    Settlement {
        status: AttemptStatus::Declined,
        decline_code: Some("authentication_abandoned".to_owned()),
        decline_message: Some("The payment was not confirmed with the card issuer in time.".to_owned()),
        three_ds: ThreeDs { required: true, result: Some("FAILED".to_owned()) },
        connector_reference: None,
        challenge_token: None,
        next_poll_at: None,
        effect: AttemptEffect::Failed,
    }
}

fn after(now: Timestamp, delay: Duration) -> Timestamp {
    now.plus_millis(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX))
}

/// How many due items one sweep handles; the rest wait for the next tick.
const SWEEP_BATCH: u32 = 500;
/// The longest wait between two polls of a pending attempt.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(3600);

/// Expires `OPEN` payments past `expires_at` and authorizations past their capture
/// deadline (SPEC §3). Returns how many moved.
pub(crate) async fn expire_due_payments(state: &AppState) -> Result<usize, FlowError> {
    let now = state.clock().now();
    // A challenge left unanswered keeps its payment PENDING, which cannot expire: it
    // counts as a failed authentication first, so the payment is OPEN (then expires
    // below) or, with no attempts left, FAILED.
    for abandoned in state.store().abandoned_challenges(now, SWEEP_BATCH).await? {
        settle(state, &abandoned.attempt.id, None, abandoned_challenge()).await?;
    }
    let due = state.store().payments_due_to_expire(now, SWEEP_BATCH).await?;
    let mut expired = 0;
    for id in due {
        if let ChangeOutcome::Applied { .. } = state.apply(None, &id, PaymentEvent::Expire).await? {
            expired += 1;
        }
    }
    Ok(expired)
}

/// Asks connectors about pending attempts whose poll is due, and records what settled.
/// Unsettled ones are asked again later, each time waiting about half as long as the
/// attempt has existed, up to an hour.
pub(crate) async fn poll_due_attempts(state: &AppState) -> Result<usize, FlowError> {
    let now = state.clock().now();
    let mut settled = 0;
    for due in state.store().attempts_due_for_poll(now, SWEEP_BATCH).await? {
        let attempt = due.attempt;
        let Some(connector) = state.connectors().get(&attempt.connector).cloned() else {
            tracing::warn!(attempt = %attempt.id, connector = %attempt.connector, "no such connector to poll");
            continue;
        };
        let Some(reference) = attempt.connector_reference.clone() else {
            // Started, but the connector's answer was never recorded (see ANSWER_DEADLINE_SECONDS
            // in gatepost-store): the process died mid-call.
            tracing::warn!(attempt = %attempt.id, "attempt without an answer closed as an error");
            let error = ConnectorError::Unavailable("no answer was recorded".to_owned());
            settle(state, &attempt.id, None, unreachable_acquirer(&error, &attempt.id)).await?;
            settled += 1;
            continue;
        };
        let answer = match connector.poll(&reference).await {
            Ok(Outcome::Pending) | Err(_) => None,
            Ok(outcome) => Some(outcome),
        };
        match answer {
            Some(outcome) => {
                settle(state, &attempt.id, None, settlement_for(outcome, None, connector.as_ref(), now)).await?;
                settled += 1;
            }
            None => {
                let age = Duration::from_millis(u64::try_from(now.millis() - attempt.created_at.millis()).unwrap_or(0));
                let wait = (age / 2).clamp(connector.first_poll_after().max(Duration::from_secs(1)), MAX_POLL_INTERVAL);
                state.store().reschedule_poll(&attempt.id, after(now, wait)).await?;
            }
        }
    }
    Ok(settled)
}
