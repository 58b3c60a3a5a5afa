use super::*;
use crate::ids::MerchantId;
use crate::money::{Amount, Currency};
use crate::payment::CaptureMode;
use crate::urls::WebhookUrl;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_millis(1_800_000_000_000 + seconds * 1000)
}

fn new_payment(amount: i64, capture: CaptureMode) -> NewPayment {
    NewPayment { capture, ..NewPayment::of(Amount::new(amount, Currency::parse("EUR").unwrap()).unwrap()) }
}

fn open(amount: i64, capture: CaptureMode) -> Payment {
    Payment::open(new_payment(amount, capture), &MerchantId::generate(), "https://pay.example", false, at(0))
}

#[test]
fn a_new_payment_is_open_with_every_attempt_and_its_own_page() {
    let payment = open(1050, CaptureMode::Manual);
    assert_eq!((payment.status, payment.attempts_remaining, payment.max_attempts), (PaymentStatus::Open, 3, 3));
    assert_eq!((payment.amount, payment.amount_captured, payment.event_sequence), (1050, 0, 0));
    assert_eq!(payment.expires_at, at(3600));
    assert_eq!(payment.checkout_url, format!("https://pay.example/pay/{}", payment.checkout_token));
    assert_eq!(payment.checkout_token.len(), 32, "24 random bytes, base64url");
    let other = open(1050, CaptureMode::Manual);
    assert_ne!(payment.checkout_token, other.checkout_token);
    assert_ne!(payment.form_token, other.form_token);
}

fn paid(amount: i64) -> Payment {
    let mut payment = open(amount, CaptureMode::Automatic);
    payment.apply(PaymentEvent::AttemptSucceeded, at(1)).unwrap();
    payment
}

fn card() -> CardSummary {
    CardSummary { brand: "visa".into(), last4: "4242".into(), exp_month: 12, exp_year: 2030 }
}

fn start(payment: &mut Payment, connector: &str) -> StartedAttempt {
    let token = payment.form_token.clone();
    let new = NewAttempt { id: AttemptId::generate(), card: card(), connector: connector.into() };
    payment.start_attempt(&token, new, at(2)).expect("the form is current")
}

fn result(status: AttemptStatus, effect: AttemptEffect, reference: Option<&str>) -> Settlement {
    Settlement {
        status,
        decline_code: None,
        decline_message: None,
        three_ds: ThreeDs::default(),
        connector_reference: reference.map(str::to_owned),
        challenge_token: None,
        next_poll_at: None,
        effect,
    }
}

#[test]
fn an_approval_in_automatic_capture_captures_the_whole_amount() {
    let payment = paid(1000);
    assert_eq!((payment.status, payment.amount_captured), (PaymentStatus::Success, 1000));
}

#[test]
fn an_authorization_opens_a_seven_day_capture_window_that_closes_when_it_ends() {
    let mut payment = open(1000, CaptureMode::Manual);
    payment.apply(PaymentEvent::AttemptAuthorized, at(10)).unwrap();
    assert_eq!(payment.capture_before, Some(at(10 + 7 * 24 * 3600)));
    payment.apply(PaymentEvent::Capture { amount: 600 }, at(20)).unwrap();
    assert_eq!((payment.status, payment.amount_captured, payment.capture_before), (PaymentStatus::Success, 600, None));
}

#[test]
fn events_are_numbered_from_one_and_carry_the_final_state() {
    let mut payment = open(1000, CaptureMode::Automatic);
    payment.attempts_remaining = 1;
    let events = payment.apply(PaymentEvent::AttemptFailed { attempts_left: 0 }, at(5)).unwrap();
    let types: Vec<_> = events.iter().map(|e| (e.event_type, e.sequence)).collect();
    assert_eq!(types, [(EventType::AttemptFailed, 1), (EventType::Failed, 2)]);
    assert_eq!(payment.event_sequence, 2);
    for event in &events {
        let body: serde_json::Value = serde_json::from_slice(&event.body).unwrap();
        assert_eq!(body["data"]["status"], "FAILED", "every body shows the payment as the change left it");
        assert_eq!(body["sequence"], event.sequence);
        assert_eq!(event.created_at, at(5));
    }
    let next = payment.apply(PaymentEvent::Cancel, at(6));
    assert_eq!(next.unwrap_err(), Refusal::NotAllowed);
    assert_eq!(payment.event_sequence, 2, "a refused change numbers nothing");
}

#[test]
fn an_event_carries_the_payments_own_webhook_url() {
    let mut own = open(1000, CaptureMode::Automatic);
    own.webhook_url = Some(WebhookUrl::from_trusted("https://own.example/hook".into()));
    let events = own.apply(PaymentEvent::AttemptPending, at(1)).unwrap();
    assert_eq!(events[0].webhook_url.as_deref(), Some("https://own.example/hook"));

    let mut none = open(1000, CaptureMode::Automatic);
    let events = none.apply(PaymentEvent::AttemptPending, at(1)).unwrap();
    assert_eq!(events[0].webhook_url, None, "the merchant's endpoints are its only destinations");
}

#[test]
fn no_cancel_or_expiry_while_an_attempt_is_in_flight() {
    let mut payment = open(1000, CaptureMode::Automatic);
    let started = start(&mut payment, "sandbox");
    for event in [PaymentEvent::Cancel, PaymentEvent::Expire] {
        assert_eq!(payment.apply(event, at(3)).unwrap_err(), Refusal::AttemptInFlight);
    }
    assert_eq!(payment.status, PaymentStatus::Open);
    let declined = result(AttemptStatus::Declined, AttemptEffect::Failed, None);
    payment.settle_attempt(&started.attempt.id, Reporter::Connector, declined, at(4)).unwrap();
    payment.apply(PaymentEvent::Cancel, at(5)).expect("the answer came: cancel now works");
}

#[test]
fn a_form_token_starts_one_attempt() {
    let mut payment = open(1000, CaptureMode::Automatic);
    let token = payment.form_token.clone();
    let started = start(&mut payment, "sandbox");
    assert_eq!(started.attempt.number, 1);
    assert_eq!(started.answer_due, at(2 + ANSWER_DEADLINE_SECONDS));
    assert_eq!((payment.attempts_remaining, payment.attempts.len()), (2, 1));
    assert_ne!(payment.form_token, token, "the form gets a fresh token");
    let again = NewAttempt { id: AttemptId::generate(), card: card(), connector: "sandbox".into() };
    assert!(payment.start_attempt(&token, again, at(3)).is_none(), "the same form twice is stale");
    let empty = NewAttempt { id: AttemptId::generate(), card: card(), connector: "sandbox".into() };
    assert!(payment.start_attempt("", empty, at(3)).is_none());
}

#[test]
fn a_result_is_recorded_once_and_only_from_whom_may_report_it() {
    let mut payment = open(1000, CaptureMode::Automatic);
    let id = start(&mut payment, "simulator").attempt.id;
    let pending = result(AttemptStatus::Pending, AttemptEffect::Pending, Some("acq-1"));
    let settled = payment.settle_attempt(&id, Reporter::Connector, pending, at(3)).unwrap();
    assert_eq!(settled.events.len(), 1);
    assert_eq!(payment.status, PaymentStatus::Pending);

    let stale = result(AttemptStatus::Pending, AttemptEffect::Pending, Some("acq-1"));
    assert!(payment.settle_attempt(&id, Reporter::Callback("simulator"), stale, at(4)).is_none());
    let other_connector = result(AttemptStatus::Succeeded, AttemptEffect::Approved, Some("acq-1"));
    assert!(payment.settle_attempt(&id, Reporter::Callback("sandbox"), other_connector, at(4)).is_none());
    let other_reference = result(AttemptStatus::Succeeded, AttemptEffect::Approved, Some("acq-2"));
    assert!(payment.settle_attempt(&id, Reporter::Callback("simulator"), other_reference, at(4)).is_none());
    let wrong_form = result(AttemptStatus::Succeeded, AttemptEffect::Approved, None);
    assert!(payment.settle_attempt(&id, Reporter::Challenge("guess"), wrong_form, at(4)).is_none());
    assert_eq!(payment.status, PaymentStatus::Pending, "nothing above moved the payment");

    let approved = result(AttemptStatus::Succeeded, AttemptEffect::Approved, Some("acq-1"));
    let settled = payment.settle_attempt(&id, Reporter::Callback("simulator"), approved, at(5)).unwrap();
    assert_eq!(settled.attempt.connector_reference.as_deref(), Some("acq-1"));
    assert_eq!((payment.status, payment.amount_captured), (PaymentStatus::Success, 1000));
    let repeated = result(AttemptStatus::Succeeded, AttemptEffect::Approved, Some("acq-1"));
    assert!(payment.settle_attempt(&id, Reporter::Connector, repeated, at(6)).is_none());
}

#[test]
fn a_result_the_payment_can_no_longer_take_stays_on_the_attempt() {
    let mut payment = open(1000, CaptureMode::Automatic);
    let id = start(&mut payment, "sandbox").attempt.id;
    payment.status = PaymentStatus::Expired;
    let approved = result(AttemptStatus::Succeeded, AttemptEffect::Approved, Some("ref"));
    let settled = payment.settle_attempt(&id, Reporter::Connector, approved, at(3)).unwrap();
    assert!(settled.events.is_empty());
    assert_eq!((payment.status, settled.attempt.status), (PaymentStatus::Expired, AttemptStatus::Succeeded));
}

fn new_refund(amount: Option<i64>) -> NewRefund {
    NewRefund { id: RefundId::generate(), amount, reason: None, connector: "sandbox".into() }
}

fn settle(payment: &mut Payment, status: RefundStatus) -> Option<SettledRefund> {
    let id = payment.refunds.last().unwrap().id.clone();
    let settlement = RefundSettlement { status, connector_reference: None, failure_code: None, next_poll_at: None };
    payment.settle_refund(&id, Reporter::Connector, settlement, at(9))
}

#[test]
fn pending_refunds_reserve_their_amount() {
    let mut payment = paid(1000);
    payment.reserve_refund(new_refund(Some(600)), at(2)).unwrap();
    let refused = payment.reserve_refund(new_refund(Some(401)), at(2)).unwrap_err();
    assert_eq!(refused, RefundRefusal::ExceedsCaptured { refundable: 400 });
    let rest = payment.reserve_refund(new_refund(None), at(2)).unwrap();
    assert_eq!(rest.amount, 400, "no amount refunds the rest");
    assert_eq!(payment.refundable(), 0);
    let refused = payment.reserve_refund(new_refund(None), at(2)).unwrap_err();
    assert_eq!(refused, RefundRefusal::ExceedsCaptured { refundable: 0 });
}

#[test]
fn a_failed_refund_frees_its_amount_and_emits_nothing() {
    let mut payment = paid(1000);
    payment.reserve_refund(new_refund(None), at(2)).unwrap();
    let settled = settle(&mut payment, RefundStatus::Failed).unwrap();
    assert!(settled.events.is_empty());
    assert_eq!((payment.refundable(), payment.amount_refunded), (1000, 0));
}

#[test]
fn refunds_move_the_payment_once_all_is_refunded() {
    let mut payment = paid(1000);
    payment.reserve_refund(new_refund(Some(300)), at(2)).unwrap();
    assert_eq!(settle(&mut payment, RefundStatus::Succeeded).unwrap().events.len(), 1);
    assert_eq!((payment.status, payment.amount_refunded), (PaymentStatus::Success, 300));
    payment.reserve_refund(new_refund(None), at(2)).unwrap();
    assert_eq!(settle(&mut payment, RefundStatus::Succeeded).unwrap().events.len(), 1);
    assert_eq!((payment.status, payment.amount_refunded), (PaymentStatus::Refunded, 1000));
    assert!(settle(&mut payment, RefundStatus::Succeeded).is_none(), "a repeated result changes nothing");
}

#[test]
fn only_paid_payments_refund() {
    let mut payment = open(1000, CaptureMode::Manual);
    payment.apply(PaymentEvent::AttemptAuthorized, at(1)).unwrap();
    let refused = payment.reserve_refund(new_refund(None), at(2)).unwrap_err();
    assert_eq!(refused, RefundRefusal::InvalidState(PaymentStatus::Authorized));
}

#[test]
fn a_refund_callback_settles_only_its_connectors_refund() {
    let mut payment = paid(1000);
    let refund = payment.reserve_refund(new_refund(None), at(2)).unwrap();
    let foreign = RefundSettlement {
        status: RefundStatus::Succeeded,
        connector_reference: None,
        failure_code: None,
        next_poll_at: None,
    };
    assert!(payment.settle_refund(&refund.id, Reporter::Callback("simulator"), foreign, at(3)).is_none());
    assert_eq!(payment.amount_refunded, 0);
}
