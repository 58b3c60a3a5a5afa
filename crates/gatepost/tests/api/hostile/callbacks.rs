//! A provider callback settles only its own connector's attempts, under the reference the
//! acquirer gave them (docs/reference/callbacks.md): a connector's secret is not a key to
//! every payment.

use crate::simulator::cards::ASYNC_APPROVED;
use crate::simulator::on_backend;
use crate::simulator::world::{SECRET, World, sign, unix_now};
use gatepost_connectors::simulator::protocol::CALLBACK_PATH;
use gatepost_testkit::Backend;
use serde_json::json;

fn approval(attempt: &str, reference: &str) -> Vec<u8> {
    json!({"id": format!("simevt_{}", gatepost_core::ids::random_token(6)), "object": "authorization",
        "attempt_id": attempt, "reference": reference, "status": "approved"})
    .to_string()
    .into_bytes()
}

async fn a_simulator_callback_cannot_settle_a_sandbox_attempt(backend: Backend) {
    // The sandbox settles async cards by polling, which the world delays by 30 s: the
    // attempt stays pending unless the forged callback moves it.
    let world = World::on(backend).connector("sandbox").start().await;
    let id = world.paid(json!({}), ASYNC_APPROVED).await;
    let attempt = world.payment(&id).await["attempts"][0]["id"].as_str().unwrap().to_owned();
    let sandbox_reference = world.attempt_reference(&id, 0).await;

    for reference in ["sim_made_up", sandbox_reference.as_str()] {
        let body = approval(&attempt, reference);
        let answer = world.callback(&body, Some(&sign(SECRET, unix_now(), CALLBACK_PATH, &body))).await;
        assert_eq!(answer.status(), 200, "a well-signed callback is acknowledged, whatever it names");
    }

    let payment = world.payment(&id).await;
    assert_eq!(
        (payment["status"].as_str(), payment["attempts"][0]["status"].as_str()),
        (Some("PENDING"), Some("PENDING"))
    );
    world.assert_events(&id, &["payment.pending"]).await;
}

async fn a_callback_naming_another_authorization_changes_nothing(backend: Backend) {
    let world = World::on(backend).sim(&["--drop-callbacks", "1"]).start().await;
    let id = world.paid(json!({}), ASYNC_APPROVED).await;
    let attempt = world.payment(&id).await["attempts"][0]["id"].as_str().unwrap().to_owned();
    let reference = world.attempt_reference(&id, 0).await;

    let forged = approval(&attempt, "sim_made_up");
    let answer = world.callback(&forged, Some(&sign(SECRET, unix_now(), CALLBACK_PATH, &forged))).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(world.payment(&id).await["status"], "PENDING", "another authorization's result is not this one's");

    let genuine = approval(&attempt, &reference);
    let answer = world.callback(&genuine, Some(&sign(SECRET, unix_now(), CALLBACK_PATH, &genuine))).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(world.payment(&id).await["status"], "SUCCESS");
    world.assert_events(&id, &["payment.pending", "payment.succeeded"]).await;
}

on_backend!(sqlite, Sqlite: a_simulator_callback_cannot_settle_a_sandbox_attempt, a_callback_naming_another_authorization_changes_nothing);
on_backend!(postgres, Postgres: a_simulator_callback_cannot_settle_a_sandbox_attempt, a_callback_naming_another_authorization_changes_nothing);
