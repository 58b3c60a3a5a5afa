//! Refunds through the real `simulator` connector, synchronous and asynchronous.

mod support;

use gatepost_connectors::{CallbackSubject, Connector as _, Outcome, RefundOutcome};
use gatepost_core::ids::RefundId;
use gatepost_core::payment::CaptureMode;
use support::*;

fn failure_code(outcome: &RefundOutcome) -> &str {
    match outcome {
        RefundOutcome::Failed { code, .. } => code,
        _ => "",
    }
}

#[tokio::test]
async fn refunds_succeed_at_once_and_never_exceed_the_captured_amount() {
    let test = spawn_sim(|_| {}).await;
    let authorization = authorized(&test.connector, APPROVED, CaptureMode::Automatic).await;
    let first_id = RefundId::generate();
    let first = refund(&test.connector, &first_id, &authorization.reference, 600).await;
    assert_eq!(first.outcome, RefundOutcome::Succeeded);
    let again = refund(&test.connector, &first_id, &authorization.reference, 600).await;
    assert_eq!(again, first, "the same refund id refunds once");
    let too_much = refund(&test.connector, &RefundId::generate(), &authorization.reference, 401).await;
    assert_eq!(failure_code(&too_much.outcome), "refund_exceeds_captured");
    let rest = refund(&test.connector, &RefundId::generate(), &authorization.reference, 400).await;
    assert_eq!(rest.outcome, RefundOutcome::Succeeded);
    assert_eq!(test.connector.poll_refund(&first.reference).await.unwrap(), RefundOutcome::Succeeded);
    test.sim.shutdown().await;
}

#[tokio::test]
async fn uncaptured_and_unknown_authorizations_cannot_be_refunded() {
    let test = spawn_sim(|_| {}).await;
    let authorization = authorized(&test.connector, APPROVED, CaptureMode::Manual).await;
    let uncaptured = refund(&test.connector, &RefundId::generate(), &authorization.reference, 100).await;
    assert_eq!(failure_code(&uncaptured.outcome), "not_captured");
    let unknown = refund(&test.connector, &RefundId::generate(), "sim_auth_unknown", 100).await;
    assert_eq!(failure_code(&unknown.outcome), "unknown_authorization");
    test.sim.shutdown().await;
}

#[tokio::test]
async fn refunds_of_async_payments_are_pending_then_called_back() {
    let test = spawn_sim(|_| {}).await;
    let authorization = authorized(&test.connector, ASYNC_APPROVED, CaptureMode::Automatic).await;
    assert_eq!(settled(&test.connector, &authorization.reference).await, Outcome::Approved);
    test.receiver.wait_for(1).await;

    let refund_id = RefundId::generate();
    let answer = refund(&test.connector, &refund_id, &authorization.reference, 500).await;
    assert_eq!(answer.outcome, RefundOutcome::Pending);
    assert_eq!(test.connector.poll_refund(&answer.reference).await.unwrap(), RefundOutcome::Pending);

    let callbacks = test.receiver.wait_for(2).await;
    assert_eq!(
        callbacks[1].subject,
        CallbackSubject::Refund { refund_id, reference: answer.reference.clone(), outcome: RefundOutcome::Succeeded }
    );
    assert_eq!(test.connector.poll_refund(&answer.reference).await.unwrap(), RefundOutcome::Succeeded);
    test.sim.shutdown().await;
}
