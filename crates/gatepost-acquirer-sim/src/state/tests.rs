//! The bookkeeping rules at exact instants; the same rules over HTTP are tested in `tests/`.

use super::*;
use gatepost_connectors::simulator::protocol::{AuthorizationStatus, CardIn};
use gatepost_core::ids::PaymentId;

const DELAY: Duration = Duration::from_millis(100);

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

fn request(attempt_id: &AttemptId, number: &str, capture: CaptureMode) -> AuthorizeIn {
    AuthorizeIn {
        attempt_id: attempt_id.clone(),
        payment_id: PaymentId::generate(),
        amount: 1000,
        currency: eur(),
        capture,
        card: CardIn { number: number.to_owned(), exp_month: 12, exp_year: 2040, cvc: "123".to_owned() },
    }
}

fn authorize(
    ledger: &Ledger,
    number: &str,
    capture: CaptureMode,
    now: Instant,
) -> (AuthorizationOut, Option<Settlement>) {
    ledger.authorize(request(&AttemptId::generate(), number, capture), now).unwrap()
}

fn refund_in(refund_id: &RefundId, authorization: &str, amount: i64) -> RefundIn {
    RefundIn {
        refund_id: refund_id.clone(),
        payment_id: PaymentId::generate(),
        authorization: authorization.to_owned(),
        amount,
        currency: eur(),
    }
}

fn code(out: &OperationOut) -> &str {
    match out {
        OperationOut::Done => "done",
        OperationOut::Refused { code, .. } => code,
    }
}

#[test]
fn an_async_authorization_is_pending_until_the_instant_it_settles() {
    let (ledger, t0) = (Ledger::new(DELAY), Instant::now());
    let (answer, settlement) = authorize(&ledger, "4000000000000077", CaptureMode::Automatic, t0);
    assert_eq!(answer.status, AuthorizationStatus::Pending);
    let settlement = settlement.expect("a pending authorization is called back");
    assert_eq!(settlement.at, t0 + DELAY);
    let status = |at| ledger.authorization(&answer.reference, at).unwrap().status;
    assert_eq!(status(t0 + DELAY - Duration::from_millis(1)), AuthorizationStatus::Pending);
    assert_eq!(status(t0 + DELAY), AuthorizationStatus::Approved);
    assert!(matches!(settlement.result, CallbackAbout::Authorization { status: AuthorizationStatus::Approved, .. }));
    assert!(matches!(settlement.stale, CallbackAbout::Authorization { status: AuthorizationStatus::Pending, .. }));
}

#[test]
fn a_repeated_attempt_id_gets_the_first_answer_whatever_the_card() {
    let (ledger, now) = (Ledger::new(DELAY), Instant::now());
    let attempt_id = AttemptId::generate();
    let (first, _) = ledger.authorize(request(&attempt_id, "4000000000000002", CaptureMode::Manual), now).unwrap();
    let (again, settlement) =
        ledger.authorize(request(&attempt_id, "4242424242424242", CaptureMode::Manual), now).unwrap();
    assert_eq!(again, first);
    assert!(settlement.is_none());
}

#[test]
fn an_async_card_cannot_be_captured_before_it_settles() {
    let (ledger, t0) = (Ledger::new(DELAY), Instant::now());
    let (answer, _) = authorize(&ledger, "4000000000000077", CaptureMode::Manual, t0);
    assert_eq!(code(&ledger.capture(&answer.reference, 1000, eur(), t0)), "not_authorized");
    assert_eq!(code(&ledger.capture(&answer.reference, 1000, eur(), t0 + DELAY)), "done");
}

#[test]
fn a_pending_refund_holds_its_amount_against_later_refunds() {
    let (ledger, t0) = (Ledger::new(DELAY), Instant::now());
    let (answer, _) = authorize(&ledger, "4000000000000077", CaptureMode::Automatic, t0);
    let t1 = t0 + DELAY;
    let (first, settlement) = ledger.refund(refund_in(&RefundId::generate(), &answer.reference, 600), t1);
    assert_eq!(first.status, RefundStatus::Pending);
    assert_eq!(settlement.expect("async refunds are called back").at, t1 + DELAY);
    let (second, _) = ledger.refund(refund_in(&RefundId::generate(), &answer.reference, 600), t1);
    assert!(matches!(second.status, RefundStatus::Failed { ref code, .. } if code == "refund_exceeds_captured"));
    assert_eq!(ledger.refund_status(&first.reference, t1 + DELAY).unwrap().status, RefundStatus::Succeeded);
}

#[test]
fn a_challenge_can_be_completed_once() {
    let (ledger, now) = (Ledger::new(DELAY), Instant::now());
    let (answer, _) = authorize(&ledger, "4000000000003220", CaptureMode::Manual, now);
    assert_eq!(ledger.complete_challenge(&answer.reference, true, now).unwrap().status, AuthorizationStatus::Approved);
    let again = ledger.complete_challenge(&answer.reference, false, now).unwrap();
    assert_eq!(again.status, AuthorizationStatus::Approved, "the first completion stands");
    let (plain, _) = authorize(&ledger, "4242424242424242", CaptureMode::Manual, now);
    assert!(matches!(ledger.complete_challenge(&plain.reference, true, now), Err(LedgerError::Conflict(_))));
    assert_eq!(ledger.complete_challenge("sim_auth_unknown", true, now), Err(LedgerError::NotFound));
}
