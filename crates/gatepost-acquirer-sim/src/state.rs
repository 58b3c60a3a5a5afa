//! The simulator's books: authorizations and refunds in memory, keyed by gatepost's ids so
//! that every request is idempotent. Bookkeeping only: "now" comes in as an argument, and
//! what must later be reported by callback comes out as a [`Settlement`].

use gatepost_connectors::simulator::protocol::{
    AuthorizationOut, AuthorizeIn, CallbackAbout, OperationOut, RefundIn, RefundOut, RefundStatus,
};
use gatepost_connectors::test_cards::{self as cards, CardBehaviour};
use gatepost_connectors::{Outcome, RefundOutcome};
use gatepost_core::ids::{AttemptId, RefundId};
use gatepost_core::money::Currency;
use gatepost_core::payment::CaptureMode;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::time::Instant;

/// A result that settles later, and the callbacks that report it.
#[derive(Clone, Debug)]
pub(crate) struct Settlement {
    pub(crate) at: Instant,
    /// The final result.
    pub(crate) result: CallbackAbout,
    /// The same subject still `pending`: what `--reorder` sends after the result.
    pub(crate) stale: CallbackAbout,
}

/// Why a request about an authorization or a refund cannot be answered.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LedgerError {
    NotFound,
    /// The request does not apply to the authorization as it stands.
    Conflict(&'static str),
    Invalid(&'static str),
}

#[derive(Debug)]
pub(crate) struct Ledger {
    books: Mutex<Books>,
    /// How long asynchronous results take (`--callback-delay`).
    delay: Duration,
}

#[derive(Debug, Default)]
struct Books {
    /// Attempt id → reference: a repeated authorize finds its first answer here.
    attempts: HashMap<AttemptId, String>,
    authorizations: HashMap<String, AuthorizationRecord>,
    /// Refund id → reference: a repeated refund refunds once.
    refund_ids: HashMap<RefundId, String>,
    refunds: HashMap<String, RefundRecord>,
}

#[derive(Debug)]
struct AuthorizationRecord {
    amount: i64,
    currency: Currency,
    capture: CaptureMode,
    /// What authorize answered; a repeated authorize gets it again, as an idempotency key does.
    first_answer: Outcome,
    state: AuthorizationState,
    /// Made with an asynchronous card: its refunds are asynchronous too.
    asynchronous: bool,
    /// What a capture call captured; automatic capture is counted by [`Self::captured`].
    captured: Option<i64>,
    /// Refunded or being refunded: a pending refund holds its amount, so refunds asked for at
    /// the same time can never add up to more than was captured.
    refunded: i64,
    voided: bool,
}

#[derive(Debug)]
enum AuthorizationState {
    /// Waiting for the shopper's 3-D Secure; `then` if they authenticate.
    Challenge {
        then: Outcome,
    },
    Pending {
        until: Instant,
        then: Outcome,
    },
    Settled(Outcome),
}

impl AuthorizationRecord {
    fn outcome(&self, now: Instant) -> Outcome {
        match &self.state {
            AuthorizationState::Challenge { .. } => Outcome::ChallengeRequired,
            AuthorizationState::Pending { until, then } if now >= *until => then.clone(),
            AuthorizationState::Pending { .. } => Outcome::Pending,
            AuthorizationState::Settled(outcome) => outcome.clone(),
        }
    }

    /// Automatic-capture authorizations are captured in full as soon as they are approved.
    fn captured(&self, now: Instant) -> i64 {
        match self.captured {
            Some(amount) => amount,
            None if self.capture == CaptureMode::Automatic && self.outcome(now) == Outcome::Approved => self.amount,
            None => 0,
        }
    }
}

#[derive(Debug)]
struct RefundRecord {
    first_answer: RefundOutcome,
    state: RefundState,
}

#[derive(Debug)]
enum RefundState {
    Pending { until: Instant },
    Settled(RefundOutcome),
}

impl RefundRecord {
    fn first_answer(state: &RefundState) -> RefundOutcome {
        match state {
            RefundState::Pending { .. } => RefundOutcome::Pending,
            RefundState::Settled(outcome) => outcome.clone(),
        }
    }

    fn outcome(&self, now: Instant) -> RefundOutcome {
        match &self.state {
            RefundState::Pending { until } if now >= *until => RefundOutcome::Succeeded,
            RefundState::Pending { .. } => RefundOutcome::Pending,
            RefundState::Settled(outcome) => outcome.clone(),
        }
    }
}

fn refused(code: &str, message: &str) -> OperationOut {
    OperationOut::Refused { code: code.to_owned(), message: message.to_owned() }
}

fn failed(code: &str, message: &str) -> RefundOutcome {
    RefundOutcome::Failed { code: code.to_owned(), message: message.to_owned() }
}

/// A new reference: URL-safe, and unguessable like a real acquirer's.
fn new_reference(prefix: &str) -> String {
    format!("{prefix}{}", gatepost_core::ids::random_token(12))
}

fn authorization_out(reference: &str, outcome: &Outcome) -> AuthorizationOut {
    AuthorizationOut { reference: reference.to_owned(), status: outcome.into() }
}

fn refund_out(reference: &str, outcome: &RefundOutcome) -> RefundOut {
    RefundOut { reference: reference.to_owned(), status: outcome.into() }
}

impl Ledger {
    pub(crate) fn new(delay: Duration) -> Self {
        Self { books: Mutex::default(), delay }
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        // Every change to the books is complete before anything can panic, so the books
        // behind a poisoned lock are consistent.
        self.books.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Authorizes an attempt once; the card decides the outcome and is dropped here.
    pub(crate) fn authorize(
        &self,
        request: AuthorizeIn,
        now: Instant,
    ) -> Result<(AuthorizationOut, Option<Settlement>), LedgerError> {
        if request.amount <= 0 {
            return Err(LedgerError::Invalid("amount must be greater than zero"));
        }
        let mut books = self.books();
        if let Some(reference) = books.attempts.get(&request.attempt_id) {
            let first = &books.authorizations[reference].first_answer;
            return Ok((authorization_out(reference, first), None));
        }
        let reference = new_reference("sim_auth_");
        let (first_answer, state, settlement) = match cards::behaviour(&request.card.number) {
            CardBehaviour::Immediate(outcome) => (outcome.clone(), AuthorizationState::Settled(outcome), None),
            CardBehaviour::Challenge { then } => {
                (Outcome::ChallengeRequired, AuthorizationState::Challenge { then }, None)
            }
            CardBehaviour::Later(then) => {
                let until = now + self.delay;
                let about = |outcome: &Outcome| CallbackAbout::Authorization {
                    attempt_id: request.attempt_id.clone(),
                    reference: reference.clone(),
                    status: outcome.into(),
                };
                let settlement = Settlement { at: until, result: about(&then), stale: about(&Outcome::Pending) };
                (Outcome::Pending, AuthorizationState::Pending { until, then }, Some(settlement))
            }
        };
        let record = AuthorizationRecord {
            amount: request.amount,
            currency: request.currency,
            capture: request.capture,
            asynchronous: settlement.is_some(),
            first_answer,
            state,
            captured: None,
            refunded: 0,
            voided: false,
        };
        let answer = authorization_out(&reference, &record.first_answer);
        books.attempts.insert(request.attempt_id, reference.clone());
        books.authorizations.insert(reference, record);
        Ok((answer, settlement))
    }

    /// Finishes a 3-D Secure challenge; asking again answers the same result.
    pub(crate) fn complete_challenge(
        &self,
        reference: &str,
        authenticated: bool,
        now: Instant,
    ) -> Result<AuthorizationOut, LedgerError> {
        let mut books = self.books();
        let record = books.authorizations.get_mut(reference).ok_or(LedgerError::NotFound)?;
        match &record.state {
            AuthorizationState::Challenge { then } => {
                let outcome = if authenticated {
                    then.clone()
                } else {
                    cards::declined("authentication_failed", "3-D Secure authentication failed.")
                };
                record.state = AuthorizationState::Settled(outcome);
            }
            _ if record.first_answer == Outcome::ChallengeRequired => {}
            _ => return Err(LedgerError::Conflict("this authorization has no 3-D Secure challenge")),
        }
        Ok(authorization_out(reference, &record.outcome(now)))
    }

    /// The current result: `pending` until the delay has passed, whether or not the callback
    /// was sent.
    pub(crate) fn authorization(&self, reference: &str, now: Instant) -> Result<AuthorizationOut, LedgerError> {
        let books = self.books();
        let record = books.authorizations.get(reference).ok_or(LedgerError::NotFound)?;
        Ok(authorization_out(reference, &record.outcome(now)))
    }

    pub(crate) fn capture(&self, reference: &str, amount: i64, currency: Currency, now: Instant) -> OperationOut {
        let mut books = self.books();
        let Some(record) = books.authorizations.get_mut(reference) else {
            return refused("unknown_authorization", "No authorization has this reference.");
        };
        if record.voided {
            return refused("authorization_voided", "The authorization was voided.");
        }
        if record.outcome(now) != Outcome::Approved {
            return refused("not_authorized", "The authorization is not approved.");
        }
        if currency != record.currency {
            return refused("currency_mismatch", "The currency is not the authorization's.");
        }
        match record.captured(now) {
            // The same capture again is answered as the first time; another one is not.
            0 => {}
            captured if captured == amount => return OperationOut::Done,
            _ => return refused("already_captured", "The authorization was already captured."),
        }
        if amount <= 0 || amount > record.amount {
            return refused("amount_exceeds_authorized", "The amount must be between 1 and the authorized amount.");
        }
        record.captured = Some(amount);
        OperationOut::Done
    }

    pub(crate) fn void(&self, reference: &str, now: Instant) -> OperationOut {
        let mut books = self.books();
        let Some(record) = books.authorizations.get_mut(reference) else {
            return refused("unknown_authorization", "No authorization has this reference.");
        };
        if record.voided {
            return OperationOut::Done;
        }
        if record.captured(now) > 0 {
            return refused("already_captured", "A captured authorization cannot be voided; refund it instead.");
        }
        if record.outcome(now) != Outcome::Approved {
            return refused("not_authorized", "The authorization is not approved.");
        }
        record.voided = true;
        OperationOut::Done
    }

    /// Refunds once per refund id. Refusals are remembered too, so a repeat gets the same answer.
    pub(crate) fn refund(&self, request: RefundIn, now: Instant) -> (RefundOut, Option<Settlement>) {
        let mut books = self.books();
        if let Some(reference) = books.refund_ids.get(&request.refund_id) {
            return (refund_out(reference, &books.refunds[reference].first_answer), None);
        }
        let reference = new_reference("sim_ref_");
        let mut settlement = None;
        let state = match books.authorizations.get_mut(&request.authorization) {
            None => RefundState::Settled(failed("unknown_authorization", "No authorization has this reference.")),
            Some(record) => {
                let captured = if record.voided { 0 } else { record.captured(now) };
                if request.currency != record.currency {
                    RefundState::Settled(failed("currency_mismatch", "The currency is not the authorization's."))
                } else if request.amount <= 0 {
                    RefundState::Settled(failed("invalid_amount", "The amount must be greater than zero."))
                } else if captured == 0 {
                    RefundState::Settled(failed("not_captured", "Only a captured authorization can be refunded."))
                } else if record.refunded + request.amount > captured {
                    RefundState::Settled(failed("refund_exceeds_captured", "Refunds would exceed the captured amount."))
                } else {
                    record.refunded += request.amount;
                    if record.asynchronous {
                        let until = now + self.delay;
                        let about = |status: RefundStatus| CallbackAbout::Refund {
                            refund_id: request.refund_id.clone(),
                            reference: reference.clone(),
                            status,
                        };
                        settlement = Some(Settlement {
                            at: until,
                            result: about(RefundStatus::Succeeded),
                            stale: about(RefundStatus::Pending),
                        });
                        RefundState::Pending { until }
                    } else {
                        RefundState::Settled(RefundOutcome::Succeeded)
                    }
                }
            }
        };
        let record = RefundRecord { first_answer: RefundRecord::first_answer(&state), state };
        let answer = refund_out(&reference, &record.first_answer);
        books.refund_ids.insert(request.refund_id, reference.clone());
        books.refunds.insert(reference, record);
        (answer, settlement)
    }

    pub(crate) fn refund_status(&self, reference: &str, now: Instant) -> Result<RefundOut, LedgerError> {
        let books = self.books();
        let record = books.refunds.get(reference).ok_or(LedgerError::NotFound)?;
        Ok(refund_out(reference, &record.outcome(now)))
    }
}

#[cfg(test)]
mod tests;
