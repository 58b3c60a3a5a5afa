//! Writing a change's events: the transactional outbox the delivery worker reads.

use crate::StoreError;
use crate::tx::Tx;
use crate::values::{Columns, Value};
use gatepost_core::changes::Emitted;
use gatepost_core::delivery::DeliveryStatus;
use gatepost_core::names::Named as _;
use gatepost_core::payment::Payment;

/// The row of an event: one with a URL is due at once.
fn event_row(payment: &Payment, event: &Emitted) -> Columns {
    let (delivery_status, next_attempt_at) = match event.webhook_url {
        Some(_) => (DeliveryStatus::Pending, Some(event.created_at.millis())),
        None => (DeliveryStatus::Skipped, None),
    };
    vec![
        ("id", event.id.as_str().into()),
        ("merchant_id", payment.merchant_id.as_str().into()),
        ("payment_id", payment.id.as_str().into()),
        ("type", event.event_type.as_str().into()),
        ("sequence", event.sequence.into()),
        ("body", event.body.clone().into()),
        ("created_at", event.created_at.millis().into()),
        ("webhook_url", event.webhook_url.clone().into()),
        ("delivery_status", delivery_status.as_str().into()),
        ("delivery_attempts", 0i64.into()),
        ("next_attempt_at", next_attempt_at.into()),
        ("last_attempt_at", Value::Int(None)),
    ]
}

/// Stores `payment`'s events in the transaction of the change that emitted them.
pub(crate) async fn insert_events(tx: &mut dyn Tx, payment: &Payment, events: &[Emitted]) -> Result<(), StoreError> {
    for event in events {
        tx.insert("events", event_row(payment, event)).await?;
    }
    Ok(())
}
