//! The sweeps' share of the flow: expiring what is overdue and asking connectors about
//! what is still pending.

use super::cards::{abandoned_challenge, unreachable_acquirer};
use super::operations::{refund_request, refund_settlement};
use super::{FlowError, settle, settlement_for};
use crate::AppState;
use futures_util::{StreamExt as _, stream};
use gatepost_connectors::{Connector, ConnectorError, Outcome, RefundAnswer, RefundOutcome};
use gatepost_core::payment::Attempt;
use gatepost_core::status::PaymentEvent;
use gatepost_core::time::Timestamp;
use gatepost_store::{ChangeOutcome, DueRefund};
use std::time::Duration;

/// How many due items one sweep handles; the rest wait for the next tick.
const SWEEP_BATCH: u32 = 500;
/// The longest wait between two polls of a pending attempt.
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(3600);
/// How many connector polls one sweep runs at once.
const POLLS_AT_ONCE: usize = 16;
/// How long one poll may take, retries included; one that takes longer counts as no
/// answer and is asked again later.
const POLL_DEADLINE: Duration = Duration::from_secs(15);

/// Expires `OPEN` payments past `expires_at` and authorizations past their capture
/// deadline (docs/reference/payments.md#capture-window). Returns how many moved.
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
/// attempt has existed, up to an hour. Polls run [`POLLS_AT_ONCE`] at a time, each within
/// [`POLL_DEADLINE`], so that one slow acquirer holds up neither the others nor the
/// next sweep for long.
pub(crate) async fn poll_due_attempts(state: &AppState) -> Result<usize, FlowError> {
    let now = state.clock().now();
    let due = state.store().attempts_due_for_poll(now, SWEEP_BATCH).await?;
    let polls = stream::iter(due).map(|due| poll_attempt(state, due.attempt, now)).buffer_unordered(POLLS_AT_ONCE);
    Ok(count_settled(polls.collect().await, "attempt"))
}

/// Polls one pending attempt; `true` when it settled.
async fn poll_attempt(state: &AppState, attempt: Attempt, now: Timestamp) -> Result<bool, FlowError> {
    let Some(connector) = state.connectors().get(&attempt.connector).cloned() else {
        tracing::warn!(attempt = %attempt.id, connector = %attempt.connector, "no such connector to poll");
        return Ok(false);
    };
    let Some(reference) = attempt.connector_reference.clone() else {
        // Started, but the connector's answer was never recorded within
        // gatepost_core::changes::ANSWER_DEADLINE_SECONDS (docs/reference/callbacks.md#polling):
        // the process died mid-call.
        tracing::warn!(attempt = %attempt.id, "attempt without an answer closed as an error");
        let error = ConnectorError::Unavailable("no answer was recorded".to_owned());
        settle(state, &attempt.id, None, unreachable_acquirer(&error, &attempt.id)).await?;
        return Ok(true);
    };
    match tokio::time::timeout(POLL_DEADLINE, connector.poll(&reference)).await {
        Ok(Ok(outcome)) if outcome != Outcome::Pending => {
            settle(state, &attempt.id, None, settlement_for(outcome, None, connector.as_ref(), now)).await?;
            Ok(true)
        }
        _ => {
            let next = next_poll(now, attempt.created_at, connector.as_ref());
            state.store().reschedule_poll(&attempt.id, next).await?;
            Ok(false)
        }
    }
}

/// How many polls settled; a poll that failed is logged and tried again when due.
fn count_settled(results: Vec<Result<bool, FlowError>>, what: &'static str) -> usize {
    let mut settled = 0;
    for result in results {
        match result {
            Ok(true) => settled += 1,
            Ok(false) => {}
            Err(error) => tracing::error!(%error, what, "poll failed"),
        }
    }
    settled
}

/// When to ask again about something pending since `since`: after about half its age,
/// at least the connector's first wait, at most an hour (docs/reference/callbacks.md#polling).
fn next_poll(now: Timestamp, since: Timestamp, connector: &dyn Connector) -> Timestamp {
    let age = now.since(since);
    let wait = (age / 2).clamp(connector.first_poll_after().max(Duration::from_secs(1)), MAX_POLL_INTERVAL);
    now.plus(wait)
}

/// Asks connectors about pending refunds, and records what settled. A refund whose
/// request never got an answer is sent again: connectors refund once per refund id.
/// Concurrent and bounded in time like [`poll_due_attempts`].
pub(crate) async fn poll_due_refunds(state: &AppState) -> Result<usize, FlowError> {
    let now = state.clock().now();
    let due = state.store().refunds_due_for_poll(now, SWEEP_BATCH).await?;
    let polls = stream::iter(due).map(|due| poll_refund(state, due, now)).buffer_unordered(POLLS_AT_ONCE);
    Ok(count_settled(polls.collect().await, "refund"))
}

/// Polls (or sends again) one pending refund; `true` when it settled.
async fn poll_refund(state: &AppState, due: DueRefund, now: Timestamp) -> Result<bool, FlowError> {
    let refund = &due.refund;
    let Some(connector) = state.connectors().get(&refund.connector).cloned() else {
        tracing::warn!(refund = %refund.id, connector = %refund.connector, "no such connector to poll");
        return Ok(false);
    };
    let ask = async {
        match &refund.connector_reference {
            Some(reference) => connector
                .poll_refund(reference)
                .await
                .map(|outcome| RefundAnswer { reference: reference.clone(), outcome }),
            None => connector.refund(&refund_request(refund, &due.authorization, due.currency)).await,
        }
    };
    let unanswered = refund.connector_reference.is_none();
    match tokio::time::timeout(POLL_DEADLINE, ask).await {
        Ok(Ok(answer)) if answer.outcome != RefundOutcome::Pending || unanswered => {
            let settlement = refund_settlement(Ok(answer), connector.as_ref(), now);
            let outcome = state.store().settle_refund(&refund.id, settlement, now).await?;
            state.metrics().changed(&outcome);
            Ok(true)
        }
        _ => {
            let next = next_poll(now, refund.created_at, connector.as_ref());
            state.store().reschedule_refund_poll(&refund.id, next).await?;
            Ok(false)
        }
    }
}
