//! Expiry never waits for a connector (docs/reference/callbacks.md#polling): polls that hang
//! at an acquirer that accepts connections and never answers hold up neither expiry nor
//! each other.

use gatepost::config::SimulatorConfig;
use gatepost_core::changes::{NewAttempt, Settlement};
use gatepost_core::ids::AttemptId;
use gatepost_core::payment::{AttemptEffect, AttemptStatus, CardSummary, ThreeDs};
use gatepost_core::time::Clock;
use gatepost_store::AttemptStart;
use gatepost_testkit::{Backend, TestApp, test_clock};
use serde_json::json;
use std::time::{Duration, Instant};

/// An acquirer that takes every connection and never says a word.
async fn tarpit() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}

/// Puts a pending attempt on a new payment, at the simulator, due for its poll now.
async fn pending_at_the_simulator(app: &TestApp, now: gatepost_core::time::Timestamp) {
    let payment = app.create_payment(&json!({"amount": 100, "currency": "EUR"})).await;
    let token = payment["checkout_url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let checkout = app.store.checkout(&token).await.unwrap().unwrap();
    let attempt = AttemptId::generate();
    let card = CardSummary { brand: "visa".into(), last4: "0077".into(), exp_month: 12, exp_year: 2034 };
    let started = app
        .store
        .start_attempt(
            &checkout.payment.id,
            &checkout.payment.form_token,
            NewAttempt { id: attempt.clone(), card, connector: "simulator".into() },
            now,
        )
        .await
        .unwrap();
    assert!(matches!(started, AttemptStart::Started(_)));
    let pending = Settlement {
        status: AttemptStatus::Pending,
        decline_code: None,
        decline_message: None,
        three_ds: ThreeDs::default(),
        connector_reference: Some(format!("sim_{}", attempt.as_str())),
        challenge_token: None,
        next_poll_at: Some(now),
        effect: AttemptEffect::Pending,
    };
    app.store.settle_attempt(&attempt, None, pending, now).await.unwrap();
}

async fn a_payment_expires_on_time_while_polls_hang(backend: Backend) {
    let (acquirer, _tarpit) = tarpit().await;
    let clock = test_clock();
    let database = gatepost_testkit::TestDatabase::new(backend).await;
    let mut config = TestApp::config(&database);
    config.connectors.simulator = Some(SimulatorConfig { url: acquirer, secret: "s".into() });
    let app = TestApp::spawn_with(config, database, std::sync::Arc::new(clock.clone())).await;
    for _ in 0..3 {
        pending_at_the_simulator(&app, clock.now()).await;
    }
    let expiring = app.create_payment(&json!({"amount": 100, "currency": "EUR", "expires_in": 60})).await;
    let id = expiring["id"].as_str().unwrap();
    // Let the poll sweep pick up the three attempts and hang on them.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    clock.advance_seconds(61);
    let advanced = Instant::now();
    let expired = app.wait_for_payment(id, "expiry", |p| p["status"] == "EXPIRED").await;

    assert_eq!(expired["status"], "EXPIRED");
    let waited = advanced.elapsed();
    assert!(waited < Duration::from_secs(5), "expired {waited:?} after its time, behind hanging polls");
}

gatepost_testkit::for_each_backend!(a_payment_expires_on_time_while_polls_hang);
