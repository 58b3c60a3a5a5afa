//! Provider callbacks: each applied once per provider event id, in one transaction with
//! the result it records and that result's events.

use crate::StoreError;
use crate::payments::{ChangeOutcome, settle_attempt};
use crate::refunds::settle_refund;
use crate::tx::Tx;
use crate::values::Value;
use gatepost_core::changes::{RefundSettlement, Reporter, Settlement};
use gatepost_core::ids::{AttemptId, RefundId};
use gatepost_core::time::Timestamp;

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
    Attempt(AttemptId, Settlement),
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

/// Records a callback's first receipt; affects no row when its id was seen before.
const INSERT_CALLBACK: &str = "INSERT INTO provider_callbacks \
    (connector, provider_event_id, subject_id, result, times_received, first_received_at, last_received_at) \
    VALUES ($1, $2, $3, 'received', 1, $4, $4) ON CONFLICT (connector, provider_event_id) DO NOTHING";
const CALLBACK_RECEIVED_AGAIN: &str = "UPDATE provider_callbacks \
    SET times_received = times_received + 1, last_received_at = $3 \
    WHERE connector = $1 AND provider_event_id = $2";
const CALLBACK_RESULT: &str =
    "UPDATE provider_callbacks SET result = $3 WHERE connector = $1 AND provider_event_id = $2";

fn insert_values(receipt: &CallbackReceipt, subject: &str, now: Timestamp) -> Vec<Value> {
    vec![receipt.connector.as_str().into(), receipt.id.as_str().into(), subject.into(), now.millis().into()]
}

fn again_values(receipt: &CallbackReceipt, now: Timestamp) -> Vec<Value> {
    vec![receipt.connector.as_str().into(), receipt.id.as_str().into(), now.millis().into()]
}

/// How a processed callback is remembered.
fn result_values(receipt: &CallbackReceipt, outcome: &ChangeOutcome) -> Vec<Value> {
    let result = match outcome {
        ChangeOutcome::Applied { .. } => "applied",
        ChangeOutcome::Rejected(_) => "ignored",
        ChangeOutcome::NotFound => "unknown",
    };
    vec![receipt.connector.as_str().into(), receipt.id.as_str().into(), result.into()]
}

impl CallbackChange {
    /// The id of the attempt or refund the callback is about.
    fn subject(&self) -> &str {
        match self {
            Self::Attempt(id, _) => id.as_str(),
            Self::Refund(id, _) => id.as_str(),
        }
    }
}

/// See `Store::settle_from_callback`. On PostgreSQL a twin of this callback inserting at
/// the same moment makes the insert wait for its commit, then affect nothing: exactly one
/// of them applies.
pub(crate) async fn settle_from_callback(
    tx: &mut dyn Tx,
    receipt: CallbackReceipt,
    change: CallbackChange,
    now: Timestamp,
) -> Result<CallbackResult, StoreError> {
    if tx.execute(INSERT_CALLBACK, &insert_values(&receipt, change.subject(), now)).await? == 0 {
        tx.execute(CALLBACK_RECEIVED_AGAIN, &again_values(&receipt, now)).await?;
        return Ok(CallbackResult::Duplicate);
    }
    let reporter = Reporter::Callback(&receipt.connector);
    let outcome = match change {
        CallbackChange::Attempt(id, settlement) => settle_attempt(tx, &id, reporter, settlement, now).await?,
        CallbackChange::Refund(id, settlement) => settle_refund(tx, &id, reporter, settlement, now).await?,
    };
    tx.execute(CALLBACK_RESULT, &result_values(&receipt, &outcome)).await?;
    Ok(CallbackResult::Processed(Box::new(outcome)))
}
