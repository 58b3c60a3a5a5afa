//! Results an acquirer reports on its own (docs/reference/callbacks.md): verified by the
//! connector, applied through the status machine once per provider event id, whatever order
//! they come in.

use super::operations::refund_settlement;
use super::{FlowError, after_settlement, settlement_for};
use crate::AppState;
use gatepost_connectors::{CallbackError, CallbackSubject, RefundAnswer};
use gatepost_store::{CallbackChange, CallbackReceipt, CallbackResult, ChangeOutcome};

/// How a callback was received.
#[derive(Debug)]
pub(crate) enum CallbackAnswer {
    /// Applied, ignored as stale or late, or a duplicate: the acquirer may stop sending it.
    Accepted,
    /// Not signed by the acquirer: nothing changed.
    BadSignature,
    Malformed(String),
    /// No connector of that name takes callbacks.
    UnknownConnector,
}

/// Verifies, parses and applies one callback to `/callbacks/{connector}`.
pub(crate) async fn receive_callback(
    state: &AppState,
    connector: &str,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<CallbackAnswer, FlowError> {
    let Some(connector) = state.connectors().get(connector).cloned() else {
        return Ok(CallbackAnswer::UnknownConnector);
    };
    let now = state.clock().now();
    let callback = match connector.parse_callback(headers, body, now) {
        Ok(callback) => callback,
        Err(CallbackError::BadSignature) => {
            state.metrics().callback(connector.name(), "bad_signature");
            return Ok(CallbackAnswer::BadSignature);
        }
        Err(CallbackError::Malformed(detail)) => {
            state.metrics().callback(connector.name(), "malformed");
            return Ok(CallbackAnswer::Malformed(detail));
        }
        Err(CallbackError::NotSupported) => return Ok(CallbackAnswer::UnknownConnector),
    };
    let receipt = CallbackReceipt { connector: connector.name().to_owned(), id: callback.id };
    let change = match callback.subject {
        CallbackSubject::Attempt { attempt_id, reference, outcome } => {
            let settlement = settlement_for(outcome, Some(reference), connector.as_ref(), now);
            CallbackChange::Attempt(attempt_id, settlement)
        }
        CallbackSubject::Refund { refund_id, reference, outcome } => {
            let settlement = refund_settlement(Ok(RefundAnswer { reference, outcome }), connector.as_ref(), now);
            CallbackChange::Refund(refund_id, settlement)
        }
    };
    let attempt = match &change {
        CallbackChange::Attempt(id, _) => Some(id.clone()),
        CallbackChange::Refund(..) => None,
    };
    match state.store().settle_from_callback(&receipt, change, now).await? {
        CallbackResult::Duplicate => {
            state.metrics().callback(&receipt.connector, "duplicate");
            tracing::info!(connector = %receipt.connector, callback = %receipt.id, "duplicate callback ignored");
        }
        CallbackResult::Processed(outcome) => {
            let outcome = *outcome;
            let result = match outcome {
                ChangeOutcome::Applied { .. } => "applied",
                ChangeOutcome::Rejected(_) => "ignored",
                ChangeOutcome::NotFound => "unknown",
            };
            state.metrics().callback(&receipt.connector, result);
            tracing::info!(connector = %receipt.connector, callback = %receipt.id, result, "callback received");
            match attempt {
                Some(attempt) => drop(after_settlement(state, &attempt, outcome)),
                None => state.metrics().changed(&outcome),
            }
        }
    }
    Ok(CallbackAnswer::Accepted)
}
