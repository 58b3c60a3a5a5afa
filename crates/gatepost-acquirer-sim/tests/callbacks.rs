//! Signed callbacks, received by a stand-in gateway that verifies them with the connector's
//! `parse_callback`, under each of the simulator's callback flags.

mod support;

use gatepost_connectors::{CallbackSubject, Outcome};
use gatepost_core::payment::CaptureMode;
use support::*;

#[tokio::test]
async fn a_pending_attempt_is_called_back_signed_with_its_result() {
    let test = spawn_sim(|_| {}).await;
    let (attempt_id, answer) = authorize(&test.connector, ASYNC_DECLINED, CaptureMode::Automatic).await;
    let answer = answer.unwrap();
    authorized(&test.connector, APPROVED, CaptureMode::Automatic).await;

    let callbacks = test.receiver.wait_for(1).await;
    let CallbackSubject::Attempt { attempt_id: about, reference, outcome } = &callbacks[0].subject else {
        panic!("an attempt callback: {callbacks:?}")
    };
    assert_eq!((about, reference), (&attempt_id, &answer.reference));
    assert_eq!(code(outcome), "card_declined");
    assert_eq!(test.receiver.settle_down().await.len(), 1, "settled answers are never called back");
    assert_eq!(test.receiver.refused(), 0);
    test.sim.shutdown().await;
}

#[tokio::test]
async fn duplicated_callbacks_repeat_the_same_event_id() {
    let test = spawn_sim(|options| options.duplicate_callbacks = 2).await;
    authorized(&test.connector, ASYNC_APPROVED, CaptureMode::Automatic).await;
    test.receiver.wait_for(3).await;
    let callbacks = test.receiver.settle_down().await;
    assert_eq!(callbacks.len(), 3, "the callback and two extra copies: {callbacks:?}");
    assert!(callbacks.iter().all(|callback| *callback == callbacks[0]), "{callbacks:?}");
    test.sim.shutdown().await;
}

#[tokio::test]
async fn reordering_sends_a_stale_pending_with_a_new_id_after_the_result() {
    let test = spawn_sim(|options| options.reorder = true).await;
    authorized(&test.connector, ASYNC_APPROVED, CaptureMode::Automatic).await;
    let callbacks = test.receiver.wait_for(2).await;
    let outcome = |index: usize| match &callbacks[index].subject {
        CallbackSubject::Attempt { outcome, .. } => outcome.clone(),
        CallbackSubject::Refund { .. } => panic!("an attempt callback"),
    };
    assert_eq!((outcome(0), outcome(1)), (Outcome::Approved, Outcome::Pending));
    assert_ne!(callbacks[0].id, callbacks[1].id);
    test.sim.shutdown().await;
}

#[tokio::test]
async fn dropped_callbacks_never_come_but_polling_still_settles() {
    let test = spawn_sim(|options| options.drop_callbacks = 1.0).await;
    let answer = authorized(&test.connector, ASYNC_APPROVED, CaptureMode::Automatic).await;
    assert_eq!(settled(&test.connector, &answer.reference).await, Outcome::Approved);
    assert!(test.receiver.settle_down().await.is_empty());
    assert_eq!(test.receiver.posts(), 0);
    test.sim.shutdown().await;
}

#[tokio::test]
async fn a_callback_the_gateway_fails_is_sent_again() {
    let test = spawn_sim_calling(Receiver::start(2).await, |_| {}).await;
    authorized(&test.connector, ASYNC_APPROVED, CaptureMode::Automatic).await;
    let callbacks = test.receiver.wait_for(1).await;
    assert_eq!(test.receiver.posts(), 3, "two failures, then the accepted one");
    assert_eq!(callbacks.len(), 1);
    test.sim.shutdown().await;
}
