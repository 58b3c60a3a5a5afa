//! Every change to a payment, decided here: what the status machine allows, what the
//! payment becomes, and which events it emits. The store loads a payment, calls one of
//! these methods and persists what it returns, in one transaction; it decides nothing.
//!
//! The rules are described in docs/reference/payments.md: transitions, late and duplicate
//! results, the capture window, capture, cancel and refunds.

use crate::ids::{AttemptId, EventId, MerchantId, PaymentId, RefundId, random_token};
use crate::payment::{
    Attempt, AttemptEffect, AttemptStatus, CardSummary, NewPayment, Payment, Refund, RefundStatus, ThreeDs, event_body,
    new_form_token,
};
use crate::status::{Decision, EventType, PaymentEvent, PaymentStatus, transition};
use crate::time::Timestamp;

/// A started attempt that has no answer from its connector after this long was cut off
/// (the process died mid-call); the poller then closes it as an error so the shopper can
/// retry, instead of the payment waiting for its expiry.
pub const ANSWER_DEADLINE_SECONDS: i64 = 120;

/// How long an authorization may wait for its capture before it expires
/// (docs/reference/payments.md#capture-window).
pub const CAPTURE_WINDOW_SECONDS: i64 = 7 * 24 * 3600;

/// Random bytes of a checkout token, the secret part of `checkout_url`: 192 bits, so that
/// it cannot be guessed from anything (docs/reference/payments.md#the-payment-object).
pub const CHECKOUT_TOKEN_BYTES: usize = 24;

/// An event a change emits, stored in the same transaction as the change (the outbox):
/// a webhook exists if and only if its change was committed
/// (docs/reference/webhooks.md#at-least-once).
#[derive(Clone, Debug)]
pub struct Emitted {
    pub id: EventId,
    pub event_type: EventType,
    /// Counts the payment's events from 1, so a receiver can order them.
    pub sequence: i64,
    /// The exact bytes every delivery attempt sends.
    pub body: Vec<u8>,
    pub created_at: Timestamp,
    /// The payment's own webhook URL, one of the event's destinations beside the
    /// merchant's endpoints (`crate::endpoints::destinations`).
    pub webhook_url: Option<String>,
}

/// Why a change was not made; the payment is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// An attempt is with the acquirer or the shopper: cancelling or expiring now could
    /// leave the shopper charged on a cancelled payment. Its answer comes within seconds
    /// (or the attempt is closed after [`ANSWER_DEADLINE_SECONDS`]); ask again then.
    AttemptInFlight,
    /// The status machine does not take this event in the payment's status.
    NotAllowed,
}

/// A card attempt about to be handed to the connector.
#[derive(Debug)]
pub struct NewAttempt {
    pub id: AttemptId,
    pub card: CardSummary,
    pub connector: String,
}

/// An attempt that [`Payment::start_attempt`] recorded.
#[derive(Clone, Debug)]
pub struct StartedAttempt {
    pub attempt: Attempt,
    /// When the poller asks about the attempt if its connector never answered.
    pub answer_due: Timestamp,
}

/// The result of an attempt, to be recorded with its effect on the payment.
#[derive(Debug)]
pub struct Settlement {
    pub status: AttemptStatus,
    pub decline_code: Option<String>,
    pub decline_message: Option<String>,
    pub three_ds: ThreeDs,
    pub connector_reference: Option<String>,
    /// The single-use token of the 3-D Secure form, while a challenge waits.
    pub challenge_token: Option<String>,
    /// When to ask the connector about a pending attempt.
    pub next_poll_at: Option<Timestamp>,
    pub effect: AttemptEffect,
}

/// An attempt result that [`Payment::settle_attempt`] recorded.
#[derive(Clone, Debug)]
pub struct SettledAttempt {
    pub attempt: Attempt,
    pub next_poll_at: Option<Timestamp>,
    /// Empty when the payment could no longer take the result (it was cancelled or
    /// expired meanwhile): the attempt keeps it, the payment does not move.
    pub events: Vec<Emitted>,
}

/// Who reports a result, and so what it must match before it is recorded.
#[derive(Clone, Copy, Debug)]
pub enum Reporter<'a> {
    /// The connector, answering the gateway's own request or poll about this object.
    Connector,
    /// The shopper's 3-D Secure form, which carries the attempt's challenge token.
    Challenge(&'a str),
    /// A callback that this connector verified: it may settle only that connector's
    /// objects, under the reference the acquirer gave them.
    Callback(&'a str),
}

impl<'a> Reporter<'a> {
    /// The connector, or the challenge form when a token came with the result.
    #[must_use]
    pub fn for_attempt(challenge_token: Option<&'a str>) -> Self {
        challenge_token.map_or(Self::Connector, Self::Challenge)
    }
}

/// A refund the merchant asked for, before any check.
#[derive(Debug)]
pub struct NewRefund {
    pub id: RefundId,
    /// `None` refunds everything still refundable.
    pub amount: Option<i64>,
    pub reason: Option<String>,
    pub connector: String,
}

/// Why a refund was not started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundRefusal {
    /// Only a `SUCCESS` payment can be refunded; this is the payment's status.
    InvalidState(PaymentStatus),
    /// The amount is more than what is still refundable (captured, less refunds that
    /// succeeded or are pending).
    ExceedsCaptured { refundable: i64 },
}

/// The result of a refund, to be recorded with its effect on the payment.
#[derive(Debug)]
pub struct RefundSettlement {
    pub status: RefundStatus,
    pub connector_reference: Option<String>,
    pub failure_code: Option<String>,
    /// When to ask the connector about a pending refund.
    pub next_poll_at: Option<Timestamp>,
}

/// A refund result that [`Payment::settle_refund`] recorded.
#[derive(Clone, Debug)]
pub struct SettledRefund {
    pub refund: Refund,
    pub next_poll_at: Option<Timestamp>,
    /// `payment.refunded` when the refund succeeded; nothing for a failure.
    pub events: Vec<Emitted>,
}

impl Payment {
    /// A new payment from a validated request: `OPEN`, with every attempt left, expiring
    /// `expires_in_seconds` from `now`, and its hosted page at `{public_url}/pay/{token}`
    /// behind a fresh checkout token and form token.
    #[must_use]
    pub fn open(new: NewPayment, merchant: &MerchantId, public_url: &str, livemode: bool, now: Timestamp) -> Self {
        let checkout_token = random_token(CHECKOUT_TOKEN_BYTES);
        Self {
            id: PaymentId::generate(),
            object: "payment",
            merchant_id: merchant.clone(),
            status: PaymentStatus::Open,
            amount: new.amount.minor(),
            currency: new.amount.currency(),
            amount_captured: 0,
            amount_refunded: 0,
            reference: new.reference,
            description: new.description,
            customer: new.customer,
            metadata: new.metadata,
            capture: new.capture,
            max_attempts: new.max_attempts,
            attempts_remaining: new.max_attempts,
            checkout_url: format!("{public_url}/pay/{checkout_token}"),
            checkout_token,
            return_url: new.return_url,
            return_urls: new.return_urls,
            return_method: new.return_method,
            webhook_url: new.webhook_url,
            attempts: Vec::new(),
            refunds: Vec::new(),
            created_at: now,
            updated_at: now,
            expires_at: now.plus_seconds(new.expires_in_seconds),
            livemode,
            event_sequence: 0,
            form_token: new_form_token(),
            capture_before: None,
        }
    }

    /// Runs `event` through the status machine on the payment as it is now. On success
    /// the payment takes its new state, and the events to store with it are returned.
    ///
    /// # Errors
    /// [`Refusal`] when the payment cannot take the event now; it is then unchanged.
    pub fn apply(&mut self, event: PaymentEvent, now: Timestamp) -> Result<Vec<Emitted>, Refusal> {
        if matches!(event, PaymentEvent::Cancel | PaymentEvent::Expire) && self.has_attempt_in_flight() {
            return Err(Refusal::AttemptInFlight);
        }
        let Decision::Apply { to, events } = transition(self.status, event) else {
            return Err(Refusal::NotAllowed);
        };
        let from = self.status;
        self.status = to;
        self.updated_at = now;
        match event {
            PaymentEvent::AttemptFailed { attempts_left } => self.attempts_remaining = attempts_left,
            PaymentEvent::AttemptSucceeded => self.amount_captured = self.amount,
            PaymentEvent::Capture { amount } => self.amount_captured = amount,
            PaymentEvent::AttemptAuthorized => self.capture_before = Some(now.plus_seconds(CAPTURE_WINDOW_SECONDS)),
            _ => {}
        }
        if from == PaymentStatus::Authorized && to != PaymentStatus::Authorized {
            self.capture_before = None;
        }
        Ok(self.emit(events, now))
    }

    /// Numbers and renders `events`. Sequences are assigned first so that every body
    /// carries the final payment state.
    fn emit(&mut self, events: &[EventType], now: Timestamp) -> Vec<Emitted> {
        let webhook_url = self.webhook_url.as_ref().map(|url| url.as_str().to_owned());
        let first_sequence = self.event_sequence + 1;
        self.event_sequence += events.len() as i64;
        events
            .iter()
            .zip(first_sequence..)
            .map(|(&event_type, sequence)| {
                let id = EventId::generate();
                let body = event_body(&id, event_type, now, sequence, self);
                Emitted { id, event_type, sequence, body, created_at: now, webhook_url: webhook_url.clone() }
            })
            .collect()
    }

    /// Starts an attempt if the payment still takes one and `form_token` is the hosted
    /// page's current one: a form submitted twice makes one attempt
    /// (docs/reference/hosted-page.md#single-use-forms). The attempt becomes
    /// the payment's last, and the form gets a new token. `None` when the form is stale
    /// or the payment takes no more attempts.
    pub fn start_attempt(&mut self, form_token: &str, new: NewAttempt, now: Timestamp) -> Option<StartedAttempt> {
        let accepts = self.status == PaymentStatus::Open
            && self.attempts_remaining > 0
            && !form_token.is_empty()
            && self.form_token == form_token;
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
            number: self.max_attempts - self.attempts_remaining + 1,
            connector: new.connector,
            connector_reference: None,
            challenge_token: None,
        };
        self.attempts_remaining -= 1;
        self.form_token = new_form_token();
        self.updated_at = now;
        self.attempts.push(attempt.clone());
        Some(StartedAttempt { attempt, answer_due: now.plus_seconds(ANSWER_DEADLINE_SECONDS) })
    }

    /// Records an attempt's result and runs its effect through the status machine.
    ///
    /// Ignored (`None`): a result for an attempt that is already settled, a pending answer
    /// for one that has its connector's answer already (a stale callback), a 3-D Secure
    /// form whose token is not the attempt's, or a callback of another connector or about
    /// another authorization. A result the payment can no longer take is recorded on the
    /// attempt and moves nothing.
    pub fn settle_attempt(
        &mut self,
        attempt_id: &AttemptId,
        reporter: Reporter<'_>,
        settlement: Settlement,
        now: Timestamp,
    ) -> Option<SettledAttempt> {
        let attempt = self.attempts.iter_mut().find(|a| &a.id == attempt_id)?;
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
        // The acquirer's first answer names the authorization; nothing later may rename it,
        // or captures and refunds would go to another one.
        if attempt.connector_reference.is_none() {
            attempt.connector_reference = settlement.connector_reference;
        }
        attempt.challenge_token = settlement.challenge_token;
        let attempt = attempt.clone();
        let event = settlement.effect.event(self);
        let events = self.apply(event, now).unwrap_or_default();
        Some(SettledAttempt { attempt, next_poll_at: settlement.next_poll_at, events })
    }

    /// Checks a refund against the payment as it is now and, when it fits, records it as
    /// `PENDING`, which reserves its amount: concurrent refunds never add up to more than
    /// was captured (docs/reference/payments.md#refunds).
    ///
    /// # Errors
    /// [`RefundRefusal`] when the payment is not `SUCCESS` or the amount does not fit.
    pub fn reserve_refund(&mut self, new: NewRefund, now: Timestamp) -> Result<Refund, RefundRefusal> {
        if self.status != PaymentStatus::Success {
            return Err(RefundRefusal::InvalidState(self.status));
        }
        let refundable = self.refundable();
        let amount = new.amount.unwrap_or(refundable);
        if amount <= 0 || amount > refundable {
            return Err(RefundRefusal::ExceedsCaptured { refundable });
        }
        let refund = Refund {
            id: new.id,
            object: "refund",
            payment_id: self.id.clone(),
            amount,
            status: RefundStatus::Pending,
            reason: new.reason,
            failure_code: None,
            created_at: now,
            connector: new.connector,
            connector_reference: None,
        };
        self.refunds.push(refund.clone());
        Ok(refund)
    }

    /// Records a refund's result. A refund that succeeded adds to `amount_refunded` and
    /// goes through the status machine (`payment.refunded`, and `REFUNDED` once all is
    /// refunded); one that failed frees its amount.
    ///
    /// Ignored (`None`): a result for a refund that is settled already, a pending answer
    /// for one that has its connector's answer, or a callback of another connector or
    /// about another refund.
    pub fn settle_refund(
        &mut self,
        refund_id: &RefundId,
        reporter: Reporter<'_>,
        settlement: RefundSettlement,
        now: Timestamp,
    ) -> Option<SettledRefund> {
        let refund = self.refunds.iter_mut().find(|r| &r.id == refund_id)?;
        if refund.status != RefundStatus::Pending {
            return None;
        }
        if let Reporter::Callback(connector) = reporter
            && !refund.takes_callback_from(connector, settlement.connector_reference.as_deref())
        {
            return None;
        }
        if settlement.status == RefundStatus::Pending && refund.connector_reference.is_some() {
            return None;
        }
        refund.status = settlement.status;
        refund.failure_code = settlement.failure_code;
        if refund.connector_reference.is_none() {
            refund.connector_reference = settlement.connector_reference;
        }
        let refund = refund.clone();
        let mut events = Vec::new();
        if settlement.status == RefundStatus::Succeeded {
            self.amount_refunded += refund.amount;
            let fully = self.amount_refunded >= self.amount_captured;
            events = self.apply(PaymentEvent::Refund { fully }, now).unwrap_or_default();
        }
        self.updated_at = now;
        Some(SettledRefund { refund, next_poll_at: settlement.next_poll_at, events })
    }
}

#[cfg(test)]
mod tests;
