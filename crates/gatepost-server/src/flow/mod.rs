//! Everything that talks to a connector, shared by the hosted page, the API, provider
//! callbacks and the sweeps. Each step records what it is about to do, asks the
//! connector outside any transaction, then records the answer through the status
//! machine, so that a crash in between leaves something to poll, never a half change.
//!
//! # Layout
//! - `cards`: a shopper's attempts and 3-D Secure.
//! - `operations`: the merchant's capture, cancel (void) and refunds.
//! - `callbacks`: results an acquirer reports on its own (docs/reference/callbacks.md).
//! - `sweeps`: expiry, and polling of pending attempts and refunds.

mod callbacks;
mod cards;
mod operations;
mod sweeps;

pub(crate) use callbacks::{CallbackAnswer, receive_callback};
pub(crate) use cards::{CardResult, complete_challenge, pay_with_card};
pub(crate) use operations::{OperationError, cancel, capture, refund};
pub(crate) use sweeps::{expire_due_payments, poll_due_attempts, poll_due_refunds};

use crate::AppState;
use gatepost_connectors::{Connector, ConnectorError, OperationOutcome, Outcome};
use gatepost_core::changes::Settlement;
use gatepost_core::ids::{AttemptId, random_token};
use gatepost_core::payment::{AttemptEffect, AttemptStatus, Payment, ThreeDs};
use gatepost_core::status::PaymentStatus;
use gatepost_core::time::Timestamp;
use gatepost_store::{ChangeOutcome, StoreError};
use std::collections::HashMap;
use std::sync::Arc;

/// The connectors this gateway can use, by name
/// (docs/reference/connectors.md#choosing-a-connector).
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

    /// Every connector's name, sorted.
    pub(crate) fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.by_name.keys().copied().collect();
        names.sort_unstable();
        names
    }

    /// Whether merchants may choose `name` (`PATCH /v1/merchant`).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }
}

/// The connector called `name`, or why there is none.
fn connector_named(state: &AppState, name: &str) -> Result<Arc<dyn Connector>, FlowError> {
    state.connectors().get(name).cloned().ok_or_else(|| FlowError::UnknownConnector(name.to_owned()))
}

/// 3-D Secure form tokens are single-use secrets like the payment form's.
const CHALLENGE_TOKEN_BYTES: usize = 18;

/// Why a flow step could not run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FlowError {
    #[error("connector {0} is not configured")]
    UnknownConnector(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the attempt's task failed: {0}")]
    Aborted(String),
    #[error(transparent)]
    Connector(#[from] ConnectorError),
}

/// Runs `work` to its end even if the shopper's browser stops waiting for it: a double
/// click or a closed tab drops the request, and must not leave an attempt half done
/// (claimed, but never settled).
pub(crate) async fn to_completion<T: Send + 'static>(
    work: impl Future<Output = Result<T, FlowError>> + Send + 'static,
) -> Result<T, FlowError> {
    tokio::spawn(work).await.map_err(|error| FlowError::Aborted(error.to_string()))?
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
    Ok(after_settlement(state, attempt, outcome))
}

/// Counts a recorded result and releases funds an approval reserved too late. Returns
/// the payment as it is now.
fn after_settlement(state: &AppState, attempt: &AttemptId, outcome: ChangeOutcome) -> Option<Payment> {
    state.metrics().changed(&outcome);
    match outcome {
        ChangeOutcome::Applied { payment, .. } => {
            void_late_approval(state, &payment, attempt);
            Some(payment)
        }
        ChangeOutcome::Rejected(payment) => Some(payment),
        ChangeOutcome::NotFound => None,
    }
}

/// An approval recorded on a payment that was cancelled or expired while the acquirer
/// decided moves nothing (docs/reference/payments.md#transitions), but the acquirer still
/// holds the shopper's funds: release them, in the background and at most once per
/// approval.
fn void_late_approval(state: &AppState, payment: &Payment, attempt: &AttemptId) {
    let Some(attempt) = payment.attempts.iter().find(|a| &a.id == attempt) else { return };
    let paid = matches!(payment.status, PaymentStatus::Authorized | PaymentStatus::Success);
    if attempt.status != AttemptStatus::Succeeded || paid {
        return;
    }
    let (Some(connector), Some(reference)) =
        (state.connectors().get(&attempt.connector).cloned(), attempt.connector_reference.clone())
    else {
        return;
    };
    let (payment_id, attempt_id) = (payment.id.clone(), attempt.id.clone());
    tokio::spawn(async move {
        match connector.void(&reference).await {
            Ok(OperationOutcome::Done) => {
                tracing::info!(payment = %payment_id, attempt = %attempt_id, "late approval voided");
            }
            Ok(OperationOutcome::Refused { code, .. }) => {
                tracing::warn!(payment = %payment_id, attempt = %attempt_id, %code, "late approval not voided");
            }
            Err(error) => {
                tracing::warn!(payment = %payment_id, attempt = %attempt_id, %error, "late approval not voided");
            }
        }
    });
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
            next_poll_at: Some(now.plus(connector.first_poll_after())),
            effect: AttemptEffect::Pending,
            ..base
        },
    }
}
