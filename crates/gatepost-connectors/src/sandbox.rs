//! The `sandbox` connector: an in-process acquirer whose answers depend on the test card
//! (docs/reference/connectors.md#test-cards). Its references carry the outcome they will
//! settle to, the way a real acquirer looks its transactions up, so nothing about the card
//! is kept.

use crate::test_cards::{CardBehaviour, behaviour, card_declined, declined};
use crate::{
    Authorization, AuthorizeRequest, Callback, CallbackError, Connector, ConnectorError, OperationOutcome, Outcome,
    RefundAnswer, RefundOutcome, RefundRequest,
};
use async_trait::async_trait;
use gatepost_core::money::Currency;
use gatepost_core::time::Timestamp;
use std::time::Duration;

/// Reference prefixes: what a challenge or a pending attempt will settle to.
const CHALLENGE_APPROVE: &str = "sbx_3ds_approve_";
const CHALLENGE_DECLINE: &str = "sbx_3ds_decline_";
const ASYNC_APPROVE: &str = "sbx_async_approve_";
const ASYNC_DECLINE: &str = "sbx_async_decline_";
const SETTLED: &str = "sbx_";
/// Refunds of async payments are async too, as at an async acquirer.
const REFUND_ASYNC: &str = "sbx_refund_async_";
const REFUND_SETTLED: &str = "sbx_refund_";

#[derive(Debug, Clone)]
pub struct Sandbox {
    /// When async test cards settle (`sandbox.async_delay`).
    pub async_delay: Duration,
}

/// What the sandbox answers for a card number, and the reference prefix that remembers
/// what a challenge or a pending attempt will settle to.
fn outcome_for(number: &str) -> (&'static str, Outcome) {
    match behaviour(number) {
        CardBehaviour::Immediate(outcome) => (SETTLED, outcome),
        CardBehaviour::Challenge { then: Outcome::Approved } => (CHALLENGE_APPROVE, Outcome::ChallengeRequired),
        CardBehaviour::Challenge { .. } => (CHALLENGE_DECLINE, Outcome::ChallengeRequired),
        CardBehaviour::Later(Outcome::Approved) => (ASYNC_APPROVE, Outcome::Pending),
        CardBehaviour::Later(_) => (ASYNC_DECLINE, Outcome::Pending),
    }
}

#[async_trait]
impl Connector for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    async fn authorize(&self, request: &AuthorizeRequest<'_>) -> Result<Authorization, ConnectorError> {
        let (prefix, outcome) = outcome_for(request.card.number());
        Ok(Authorization { reference: format!("{prefix}{}", request.attempt_id), outcome })
    }

    async fn complete_challenge(&self, reference: &str, authenticated: bool) -> Result<Outcome, ConnectorError> {
        if !authenticated {
            return Ok(declined("authentication_failed", "3-D Secure authentication failed."));
        }
        if reference.starts_with(CHALLENGE_APPROVE) {
            Ok(Outcome::Approved)
        } else if reference.starts_with(CHALLENGE_DECLINE) {
            Ok(card_declined())
        } else {
            Err(ConnectorError::Protocol(format!("no challenge for {reference}")))
        }
    }

    async fn poll(&self, reference: &str) -> Result<Outcome, ConnectorError> {
        if reference.starts_with(ASYNC_APPROVE) {
            Ok(Outcome::Approved)
        } else if reference.starts_with(ASYNC_DECLINE) {
            Ok(card_declined())
        } else {
            Err(ConnectorError::Protocol(format!("nothing pending for {reference}")))
        }
    }

    fn first_poll_after(&self) -> Duration {
        self.async_delay
    }

    async fn capture(&self, _: &str, _: i64, _: Currency) -> Result<OperationOutcome, ConnectorError> {
        Ok(OperationOutcome::Done)
    }

    async fn void(&self, _: &str) -> Result<OperationOutcome, ConnectorError> {
        Ok(OperationOutcome::Done)
    }

    async fn refund(&self, request: &RefundRequest<'_>) -> Result<RefundAnswer, ConnectorError> {
        if request.authorization.starts_with(ASYNC_APPROVE) {
            let reference = format!("{REFUND_ASYNC}{}", request.refund_id);
            return Ok(RefundAnswer { reference, outcome: RefundOutcome::Pending });
        }
        Ok(RefundAnswer {
            reference: format!("{REFUND_SETTLED}{}", request.refund_id),
            outcome: RefundOutcome::Succeeded,
        })
    }

    async fn poll_refund(&self, reference: &str) -> Result<RefundOutcome, ConnectorError> {
        if reference.starts_with(REFUND_SETTLED) {
            Ok(RefundOutcome::Succeeded)
        } else {
            Err(ConnectorError::Protocol(format!("no refund {reference}")))
        }
    }

    /// The sandbox runs in the gateway's process: its async results arrive by polling.
    fn parse_callback(&self, _: &http::HeaderMap, _: &[u8], _: Timestamp) -> Result<Callback, CallbackError> {
        Err(CallbackError::NotSupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatepost_core::card::Card;
    use gatepost_core::ids::{AttemptId, PaymentId};
    use gatepost_core::money::Currency;
    use gatepost_core::payment::CaptureMode;

    fn authorize(number: &str) -> Authorization {
        let card = Card::parse(number, "12/40", "123", (2026, 1)).unwrap();
        let (payment_id, attempt_id) = (PaymentId::generate(), AttemptId::generate());
        let request = AuthorizeRequest {
            payment_id: &payment_id,
            attempt_id: &attempt_id,
            amount: 1050,
            currency: Currency::parse("EUR").unwrap(),
            capture: CaptureMode::Automatic,
            card: &card,
        };
        run_now(Sandbox { async_delay: Duration::from_secs(2) }.authorize(&request)).unwrap()
    }

    /// The sandbox never awaits anything, so polling its futures once completes them.
    fn run_now<F: std::future::Future>(future: F) -> F::Output {
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the sandbox does not wait"),
        }
    }

    fn code(outcome: &Outcome) -> &str {
        match outcome {
            Outcome::Declined { code, .. } | Outcome::Error { code, .. } => code,
            _ => "",
        }
    }

    #[test]
    fn test_cards_answer_as_the_spec_table_says() {
        assert_eq!(authorize("4242424242424242").outcome, Outcome::Approved);
        assert_eq!(authorize("5555555555554444").outcome, Outcome::Approved, "any other valid number");
        for (number, expected) in [
            ("4000000000000002", "card_declined"),
            ("4000000000009995", "insufficient_funds"),
            ("4000000000000069", "expired_card"),
            ("4000000000000127", "incorrect_cvc"),
        ] {
            let outcome = authorize(number).outcome;
            assert!(matches!(outcome, Outcome::Declined { .. }), "{number}");
            assert_eq!(code(&outcome), expected);
        }
        let error = authorize("4000000000000119").outcome;
        assert!(matches!(error, Outcome::Error { .. }));
        assert_eq!(code(&error), "processing_error");
    }

    #[test]
    fn challenge_cards_settle_after_authentication() {
        let sandbox = Sandbox { async_delay: Duration::ZERO };
        let approve = authorize("4000000000003220");
        assert_eq!(approve.outcome, Outcome::ChallengeRequired);
        assert_eq!(run_now(sandbox.complete_challenge(&approve.reference, true)).unwrap(), Outcome::Approved);
        let failed = run_now(sandbox.complete_challenge(&approve.reference, false)).unwrap();
        assert_eq!(code(&failed), "authentication_failed");
        let decline = authorize("4000008400001629");
        let outcome = run_now(sandbox.complete_challenge(&decline.reference, true)).unwrap();
        assert_eq!(code(&outcome), "card_declined");
    }

    #[test]
    fn async_cards_are_pending_then_settle_when_polled() {
        let sandbox = Sandbox { async_delay: Duration::ZERO };
        let approve = authorize("4000000000000077");
        assert_eq!(approve.outcome, Outcome::Pending);
        assert_eq!(run_now(sandbox.poll(&approve.reference)).unwrap(), Outcome::Approved);
        let decline = authorize("4000000000000085");
        assert_eq!(code(&run_now(sandbox.poll(&decline.reference)).unwrap()), "card_declined");
    }
}
