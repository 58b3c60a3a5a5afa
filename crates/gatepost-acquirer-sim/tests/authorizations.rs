//! Authorizations through the real `simulator` connector: test cards, idempotency,
//! 3-D Secure and polling.

mod support;

use gatepost_connectors::{Connector as _, ConnectorError, Outcome};
use gatepost_core::ids::AttemptId;
use gatepost_core::payment::CaptureMode;
use support::*;

#[tokio::test]
async fn every_test_card_answers_as_the_spec_table_says() {
    let test = spawn_sim(|_| {}).await;
    let cases = [
        (APPROVED, "approved", ""),
        ("5555555555554444", "approved", ""),
        ("4000000000000002", "declined", "card_declined"),
        ("4000000000009995", "declined", "insufficient_funds"),
        ("4000000000000069", "declined", "expired_card"),
        ("4000000000000127", "declined", "incorrect_cvc"),
        ("4000000000000119", "error", "processing_error"),
        ("4000000000003220", "challenge", ""),
        ("4000008400001629", "challenge", ""),
        (ASYNC_APPROVED, "pending", ""),
        (ASYNC_DECLINED, "pending", ""),
    ];
    for (number, kind, expected_code) in cases {
        let answer = authorized(&test.connector, number, CaptureMode::Automatic).await;
        let actual = match &answer.outcome {
            Outcome::Approved => "approved",
            Outcome::Declined { .. } => "declined",
            Outcome::Error { .. } => "error",
            Outcome::ChallengeRequired => "challenge",
            Outcome::Pending => "pending",
        };
        assert_eq!((actual, code(&answer.outcome)), (kind, expected_code), "card {number}");
        assert!(answer.reference.starts_with("sim_"), "{}", answer.reference);
    }
    test.sim.shutdown().await;
}

#[tokio::test]
async fn authorizing_an_attempt_twice_authorizes_once_and_answers_the_first_answer() {
    let test = spawn_sim(|_| {}).await;
    let attempt_id = AttemptId::generate();
    let first = authorize_attempt(&test.connector, &attempt_id, "4000000000000002", CaptureMode::Manual).await.unwrap();
    let again = authorize_attempt(&test.connector, &attempt_id, APPROVED, CaptureMode::Manual).await.unwrap();
    assert_eq!(again, first, "the second card is never looked at");
    assert_eq!(code(&again.outcome), "card_declined");
    test.sim.shutdown().await;
}

#[tokio::test]
async fn challenge_cards_settle_after_the_shopper_authenticates() {
    let test = spawn_sim(|_| {}).await;
    let approve = authorized(&test.connector, "4000000000003220", CaptureMode::Manual).await;
    assert_eq!(test.connector.complete_challenge(&approve.reference, true).await.unwrap(), Outcome::Approved);
    assert_eq!(test.connector.poll(&approve.reference).await.unwrap(), Outcome::Approved);

    let decline = authorized(&test.connector, "4000008400001629", CaptureMode::Manual).await;
    let outcome = test.connector.complete_challenge(&decline.reference, true).await.unwrap();
    assert_eq!(code(&outcome), "card_declined");

    let failed = authorized(&test.connector, "4000000000003220", CaptureMode::Manual).await;
    let outcome = test.connector.complete_challenge(&failed.reference, false).await.unwrap();
    assert_eq!(code(&outcome), "authentication_failed");
    test.sim.shutdown().await;
}

#[tokio::test]
async fn a_challenge_for_an_authorization_without_one_is_an_error() {
    let test = spawn_sim(|_| {}).await;
    let plain = authorized(&test.connector, APPROVED, CaptureMode::Manual).await;
    let error = test.connector.complete_challenge(&plain.reference, true).await.unwrap_err();
    assert!(matches!(error, ConnectorError::Protocol(_)), "{error}");
    let error = test.connector.poll("sim_auth_unknown").await.unwrap_err();
    assert!(matches!(error, ConnectorError::Protocol(_)), "{error}");
    test.sim.shutdown().await;
}

#[tokio::test]
async fn a_pending_attempt_is_pending_until_the_delay_then_polls_settled() {
    let test = spawn_sim(|_| {}).await;
    let approve = authorized(&test.connector, ASYNC_APPROVED, CaptureMode::Automatic).await;
    let decline = authorized(&test.connector, ASYNC_DECLINED, CaptureMode::Automatic).await;
    assert_eq!(test.connector.poll(&approve.reference).await.unwrap(), Outcome::Pending);
    assert_eq!(settled(&test.connector, &approve.reference).await, Outcome::Approved);
    assert_eq!(code(&settled(&test.connector, &decline.reference).await), "card_declined");
    test.sim.shutdown().await;
}

#[tokio::test]
async fn a_request_signed_with_another_secret_is_refused_and_changes_nothing() {
    let test = spawn_sim(|_| {}).await;
    let intruder = connector(&format!("http://{}", test.sim.addr), "not-the-secret", std::time::Duration::from_secs(5));
    let attempt_id = AttemptId::generate();
    let error = authorize_attempt(&intruder, &attempt_id, "4000000000000002", CaptureMode::Manual).await.unwrap_err();
    assert!(matches!(&error, ConnectorError::Protocol(message) if message.contains("401")), "{error}");
    // Had the refused request authorized anything, this would answer its decline again.
    let answer = authorize_attempt(&test.connector, &attempt_id, APPROVED, CaptureMode::Manual).await.unwrap();
    assert_eq!(answer.outcome, Outcome::Approved);
    test.sim.shutdown().await;
}
