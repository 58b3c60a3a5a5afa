//! A shopper's card attempts: authorize, then 3-D Secure when the issuer asks for it.

use super::{FlowError, connector_named, settle, settlement_for};
use crate::AppState;
use gatepost_connectors::{AuthorizeRequest, ConnectorError};
use gatepost_core::card::Card;
use gatepost_core::changes::{NewAttempt, Settlement};
use gatepost_core::ids::AttemptId;
use gatepost_core::payment::{AttemptEffect, AttemptStatus, Payment, ThreeDs};
use gatepost_store::{AttemptStart, Checkout};

/// Where a card payment ended up.
#[derive(Debug)]
pub(crate) enum CardResult {
    /// The attempt ran; the payment as it is now.
    Done(Payment),
    /// The form had been used already (double click, back button): no attempt was made.
    Stale(Payment),
    NotFound,
}

/// Makes one card attempt for the payment behind `checkout`, if `form_token` is current.
pub(crate) async fn pay_with_card(
    state: &AppState,
    checkout: &Checkout,
    form_token: &str,
    card: Card,
) -> Result<CardResult, FlowError> {
    let connector = connector_named(state, &checkout.connector)?;
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
    let connector = connector_named(state, &attempt.connector)?;
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

/// An acquirer that could not be reached makes the attempt an `ERROR`: it counts, and
/// the shopper may retry.
pub(super) fn unreachable_acquirer(error: &ConnectorError, attempt: &AttemptId) -> Settlement {
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
pub(super) fn abandoned_challenge() -> Settlement {
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
