//! What a status change writes, decided once for both backends: the new payment state
//! and its events (the transactional outbox of SPEC §6).

use crate::values::Value;
use gatepost_core::ids::EventId;
use gatepost_core::payment::{Payment, event_body};
use gatepost_core::status::{Decision, PaymentEvent, transition};
use gatepost_core::time::Timestamp;

/// The result of [`crate::Store::apply`].
#[derive(Debug)]
pub enum ChangeOutcome {
    /// The change was stored; the payment as it is now.
    Applied(Payment),
    /// The status machine refused the change; the payment is unchanged.
    Rejected(Payment),
    /// No such payment for this merchant.
    NotFound,
}

/// Delivery status of an event that has a URL to go to, and of one that has none.
const DELIVERY_PENDING: &str = "PENDING";
const DELIVERY_SKIPPED: &str = "SKIPPED";

/// Runs `event` through the status machine on the locked, current `payment`. On
/// success, updates `payment` in place and returns the event rows to insert with it.
pub(crate) fn plan(
    payment: &mut Payment,
    event: PaymentEvent,
    now: Timestamp,
    default_webhook_url: Option<String>,
) -> Option<Vec<Vec<Value>>> {
    let Decision::Apply { to, events } = transition(payment.status, event) else {
        return None;
    };
    payment.status = to;
    payment.updated_at = now;
    if let PaymentEvent::AttemptFailed { attempts_left } = event {
        payment.attempts_remaining = attempts_left;
    }
    let url = payment
        .webhook_url
        .as_ref()
        .map(|url| url.as_str().to_owned())
        .or(default_webhook_url);
    let (delivery_status, next_attempt_at) = match url {
        Some(_) => (DELIVERY_PENDING, Some(now.millis())),
        None => (DELIVERY_SKIPPED, None),
    };
    // Sequences are assigned first so that every body carries the final payment state.
    let first_sequence = payment.event_sequence + 1;
    payment.event_sequence += events.len() as i64;
    let rows = events
        .iter()
        .zip(first_sequence..)
        .map(|(&event_type, sequence)| {
            let id = EventId::generate();
            let body = event_body(&id, event_type, now, sequence, payment);
            vec![
                id.as_str().into(),
                payment.merchant_id.as_str().into(),
                payment.id.as_str().into(),
                event_type.as_str().into(),
                sequence.into(),
                body.into(),
                now.millis().into(),
                url.clone().into(),
                delivery_status.into(),
                0i64.into(),
                next_attempt_at.into(),
                Value::Int(None),
            ]
        })
        .collect();
    Some(rows)
}
