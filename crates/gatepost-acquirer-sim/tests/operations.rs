//! Capture and void through the real `simulator` connector.

mod support;

use gatepost_connectors::{Connector as _, OperationOutcome};
use gatepost_core::payment::CaptureMode;
use support::*;

fn refused_code(outcome: &OperationOutcome) -> &str {
    match outcome {
        OperationOutcome::Done => "done",
        OperationOutcome::Refused { code, .. } => code,
    }
}

#[tokio::test]
async fn a_manual_authorization_captures_once_up_to_its_amount() {
    let test = spawn_sim(|_| {}).await;
    let authorization = authorized(&test.connector, APPROVED, CaptureMode::Manual).await;
    let capture = |amount| test.connector.capture(&authorization.reference, amount, eur());
    assert_eq!(refused_code(&capture(AMOUNT + 1).await.unwrap()), "amount_exceeds_authorized");
    assert_eq!(capture(800).await.unwrap(), OperationOutcome::Done);
    assert_eq!(capture(800).await.unwrap(), OperationOutcome::Done, "the same capture again");
    assert_eq!(refused_code(&capture(200).await.unwrap()), "already_captured");
    let void = test.connector.void(&authorization.reference).await.unwrap();
    assert_eq!(refused_code(&void), "already_captured");
    test.sim.shutdown().await;
}

#[tokio::test]
async fn a_voided_authorization_cannot_be_captured() {
    let test = spawn_sim(|_| {}).await;
    let authorization = authorized(&test.connector, APPROVED, CaptureMode::Manual).await;
    assert_eq!(test.connector.void(&authorization.reference).await.unwrap(), OperationOutcome::Done);
    assert_eq!(test.connector.void(&authorization.reference).await.unwrap(), OperationOutcome::Done, "again");
    let capture = test.connector.capture(&authorization.reference, AMOUNT, eur()).await.unwrap();
    assert_eq!(refused_code(&capture), "authorization_voided");
    test.sim.shutdown().await;
}

#[tokio::test]
async fn an_automatic_capture_counts_as_captured() {
    let test = spawn_sim(|_| {}).await;
    let authorization = authorized(&test.connector, APPROVED, CaptureMode::Automatic).await;
    let void = test.connector.void(&authorization.reference).await.unwrap();
    assert_eq!(refused_code(&void), "already_captured");
    let capture = test.connector.capture(&authorization.reference, AMOUNT, eur()).await.unwrap();
    assert_eq!(capture, OperationOutcome::Done, "capturing what is captured answers as the first capture did");
    test.sim.shutdown().await;
}

#[tokio::test]
async fn declined_pending_and_unknown_authorizations_are_refused() {
    let test = spawn_sim(|_| {}).await;
    let declined = authorized(&test.connector, "4000000000000002", CaptureMode::Manual).await;
    let pending = authorized(&test.connector, ASYNC_APPROVED, CaptureMode::Manual).await;
    for reference in [&declined.reference, &pending.reference] {
        let capture = test.connector.capture(reference, AMOUNT, eur()).await.unwrap();
        assert_eq!(refused_code(&capture), "not_authorized", "{reference}");
        assert_eq!(refused_code(&test.connector.void(reference).await.unwrap()), "not_authorized", "{reference}");
    }
    let unknown = test.connector.capture("sim_auth_unknown", AMOUNT, eur()).await.unwrap();
    assert_eq!(refused_code(&unknown), "unknown_authorization");
    test.sim.shutdown().await;
}
