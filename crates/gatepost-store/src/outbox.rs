//! Writing a change's events: the transactional outbox the delivery worker reads.

use crate::StoreError;
use crate::tx::Tx;
use crate::values::{INSERT_EVENT, Value};
use gatepost_core::changes::Emitted;
use gatepost_core::delivery::DeliveryStatus;
use gatepost_core::names::Named as _;
use gatepost_core::payment::Payment;

/// The row of an event, in `EVENT_COLUMNS` order: one with a URL is due at once.
fn event_values(payment: &Payment, event: &Emitted) -> Vec<Value> {
    let (delivery_status, next_attempt_at) = match event.webhook_url {
        Some(_) => (DeliveryStatus::Pending, Some(event.created_at.millis())),
        None => (DeliveryStatus::Skipped, None),
    };
    vec![
        event.id.as_str().into(),
        payment.merchant_id.as_str().into(),
        payment.id.as_str().into(),
        event.event_type.as_str().into(),
        event.sequence.into(),
        event.body.clone().into(),
        event.created_at.millis().into(),
        event.webhook_url.clone().into(),
        delivery_status.as_str().into(),
        0i64.into(),
        next_attempt_at.into(),
        Value::Int(None),
    ]
}

/// Stores `payment`'s events in the transaction of the change that emitted them.
pub(crate) async fn insert_events(tx: &mut dyn Tx, payment: &Payment, events: &[Emitted]) -> Result<(), StoreError> {
    for event in events {
        tx.execute(&INSERT_EVENT, &event_values(payment, event)).await?;
    }
    Ok(())
}
