//! What a status change writes, decided once for both backends: the new payment state
//! and its events (the transactional outbox: docs/reference/webhooks.md#at-least-once).

use crate::values::{Value, attempt_update_values, attempt_values};
use crate::{NewAttempt, Settlement};
use gatepost_core::ids::{AttemptId, EventId};
use gatepost_core::payment::{Attempt, AttemptStatus, Payment, ThreeDs, event_body, new_form_token};
use gatepost_core::status::{Decision, PaymentEvent, PaymentStatus, transition};
use gatepost_core::time::Timestamp;

/// A started attempt that has no answer from its connector after this long was cut off
/// (the process died mid-call); the poller then closes it as an error so the shopper can
/// retry, instead of the payment waiting for its expiry.
const ANSWER_DEADLINE_SECONDS: i64 = 120;

/// How long an authorization may wait for its capture (docs/reference/payments.md#capture-window).
const CAPTURE_WINDOW_SECONDS: i64 = 7 * 24 * 3600;

/// The result of [`crate::Store::apply`].
#[derive(Debug)]
pub enum ChangeOutcome {
    /// The change was stored; the payment as it is now, and its status before.
    Applied { payment: Payment, from: PaymentStatus },
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
    if matches!(event, PaymentEvent::Cancel | PaymentEvent::Expire)
        && payment.attempts.iter().any(|a| a.status.is_open())
    {
        // An attempt is with the acquirer: cancelling now could leave the shopper charged on
        // a cancelled payment. Its answer comes within seconds (or the attempt is closed
        // after ANSWER_DEADLINE_SECONDS); the caller may ask again then.
        return None;
    }
    let Decision::Apply { to, events } = transition(payment.status, event) else {
        return None;
    };
    let from = payment.status;
    payment.status = to;
    payment.updated_at = now;
    match event {
        PaymentEvent::AttemptFailed { attempts_left } => payment.attempts_remaining = attempts_left,
        PaymentEvent::AttemptSucceeded => payment.amount_captured = payment.amount,
        PaymentEvent::Capture { amount } => payment.amount_captured = amount,
        PaymentEvent::AttemptAuthorized => payment.capture_before = Some(now.plus_seconds(CAPTURE_WINDOW_SECONDS)),
        _ => {}
    }
    if from == PaymentStatus::Authorized && to != PaymentStatus::Authorized {
        payment.capture_before = None;
    }
    let url = payment.webhook_url.as_ref().map(|url| url.as_str().to_owned()).or(default_webhook_url);
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

/// Starts an attempt if the payment still takes one and `form_token` is the current one (a
/// token used twice makes no second attempt:
/// docs/reference/hosted-page.md#single-use-forms). Returns the attempt's row.
pub(crate) fn plan_start(
    payment: &mut Payment,
    form_token: &str,
    new: NewAttempt,
    now: Timestamp,
) -> Option<Vec<Value>> {
    let accepts = payment.status == PaymentStatus::Open
        && payment.attempts_remaining > 0
        && !form_token.is_empty()
        && payment.form_token == form_token;
    if !accepts {
        return None;
    }
    let attempt = Attempt {
        id: new.id,
        status: AttemptStatus::Pending,
        card: new.card,
        decline_code: None,
        decline_message: None,
        three_ds: ThreeDs::default(),
        created_at: now,
        number: payment.max_attempts - payment.attempts_remaining + 1,
        connector: new.connector,
        connector_reference: None,
        challenge_token: None,
    };
    payment.attempts_remaining -= 1;
    payment.form_token = new_form_token();
    payment.updated_at = now;
    let row = attempt_values(&payment.id, &attempt, Some(now.plus_seconds(ANSWER_DEADLINE_SECONDS)));
    payment.attempts.push(attempt);
    Some(row)
}

/// What settling an attempt writes: the attempt's new row values and the payment's events.
pub(crate) struct SettlementPlan {
    pub(crate) attempt: Vec<Value>,
    pub(crate) events: Vec<Vec<Value>>,
}

/// Who reports a result, and so what it must match before it is recorded.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Reporter<'a> {
    /// The connector, answering the gateway's own request or poll about this object.
    Connector,
    /// The shopper's 3-D Secure form, which carries the attempt's challenge token.
    Challenge(&'a str),
    /// A callback that this connector verified: it may settle only that connector's
    /// objects, under the reference the acquirer gave them.
    Callback(&'a str),
}

impl<'a> Reporter<'a> {
    /// The reporter of `Store::settle_attempt`: the connector, or the challenge form.
    pub(crate) fn for_attempt(challenge_token: Option<&'a str>) -> Self {
        challenge_token.map_or(Self::Connector, Self::Challenge)
    }
}

/// Records an attempt's result and runs its effect through the status machine. A result
/// for an attempt that is already settled, a pending answer for one that has its
/// connector's answer already (a stale callback), a 3-D Secure form whose token is not
/// the attempt's, or a callback of another connector or about another authorization, is
/// ignored (`None`). A result the payment can no longer take (it was cancelled or expired
/// meanwhile) is recorded on the attempt and moves nothing.
pub(crate) fn plan_settlement(
    payment: &mut Payment,
    attempt_id: &AttemptId,
    reporter: Reporter<'_>,
    settlement: Settlement,
    now: Timestamp,
    default_webhook_url: Option<String>,
) -> Option<SettlementPlan> {
    let attempt = payment.attempts.iter_mut().find(|a| &a.id == attempt_id)?;
    if !attempt.status.is_open() {
        return None;
    }
    if settlement.status == AttemptStatus::Pending && attempt.connector_reference.is_some() {
        return None;
    }
    let reported_right = match reporter {
        Reporter::Connector => true,
        Reporter::Challenge(token) => attempt.challenge_token.as_deref() == Some(token),
        Reporter::Callback(connector) => {
            attempt.takes_callback_from(connector, settlement.connector_reference.as_deref())
        }
    };
    if !reported_right {
        return None;
    }
    attempt.status = settlement.status;
    attempt.decline_code = settlement.decline_code;
    attempt.decline_message = settlement.decline_message;
    attempt.three_ds = settlement.three_ds;
    // The acquirer's first answer names the authorization; nothing later may rename it, or
    // captures and refunds would go to another one.
    if attempt.connector_reference.is_none() {
        attempt.connector_reference = settlement.connector_reference;
    }
    attempt.challenge_token = settlement.challenge_token;
    let row = attempt_update_values(attempt, settlement.next_poll_at, now);
    let event = settlement.effect.event(payment);
    let events = plan(payment, event, now, default_webhook_url).unwrap_or_default();
    Some(SettlementPlan { attempt: row, events })
}
