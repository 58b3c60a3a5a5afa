//! Callbacks to `/callbacks/simulator` that the simulator did not sign, and well-signed ones
//! that come again or too late (docs/reference/callbacks.md#callbacks): refused with 401, or
//! acknowledged with 200, and in neither case a change to the payment.

use super::cards::ASYNC_APPROVED;
use super::on_backend;
use super::world::{SECRET, World, sign, unix_now};
use gatepost_connectors::simulator::protocol::CALLBACK_PATH;
use gatepost_testkit::{Backend, problem};
use serde_json::json;

async fn only_a_callback_signed_with_the_shared_secret_settles_a_payment(backend: Backend) {
    // The simulator never calls back and the gateway polls only after 30 s: the callbacks
    // below are the only news the payment gets.
    let world = World::on(backend).sim(&["--drop-callbacks", "1"]).start().await;
    let id = world.paid(json!({}), ASYNC_APPROVED).await;
    let watch = world.watch(&id);
    let attempt = world.payment(&id).await["attempts"][0]["id"].as_str().unwrap().to_owned();
    let reference = world.attempt_reference(&id, 0).await;
    let approval = json!({"id": "simevt_forged", "object": "authorization", "attempt_id": attempt,
        "reference": reference, "status": "approved"})
    .to_string()
    .into_bytes();

    let now = unix_now();
    let refused = [
        ("another secret", Some(sign("not-the-shared-secret", now, CALLBACK_PATH, &approval))),
        ("no signature", None),
        ("ten minutes old", Some(sign(SECRET, now - 600, CALLBACK_PATH, &approval))),
        ("signed for another path", Some(sign(SECRET, now, "/callbacks/sandbox", &approval))),
        ("signed for other bytes", Some(sign(SECRET, now, CALLBACK_PATH, b"{}"))),
    ];
    for (what, signature) in refused {
        let response = world.callback(&approval, signature.as_deref()).await;
        let (status, _) = problem(response).await;
        assert_eq!(status, 401, "{what}");
    }
    assert_eq!(world.payment(&id).await["status"], "PENDING", "nothing changed");
    world.assert_events(&id, &["payment.pending"]).await;

    let signature = sign(SECRET, unix_now(), CALLBACK_PATH, &approval);
    let accepted = world.callback(&approval, Some(&signature)).await;
    assert_eq!(accepted.status(), 200, "the same body, signed with the shared secret");
    assert_eq!(world.payment(&id).await["status"], "SUCCESS");

    let again = world.callback(&approval, Some(&sign(SECRET, unix_now(), CALLBACK_PATH, &approval))).await;
    assert_eq!(again.status(), 200, "a duplicate is acknowledged");
    let late_decline = json!({"id": "simevt_late", "object": "authorization", "attempt_id": attempt,
        "reference": reference, "status": "declined", "code": "card_declined", "message": "No."})
    .to_string()
    .into_bytes();
    let late = world.callback(&late_decline, Some(&sign(SECRET, unix_now(), CALLBACK_PATH, &late_decline))).await;
    assert_eq!(late.status(), 200, "a late, contradicting result is acknowledged");

    let payment = world.payment(&id).await;
    assert_eq!(
        (payment["status"].as_str(), payment["attempts"][0]["status"].as_str()),
        (Some("SUCCESS"), Some("SUCCEEDED"))
    );
    world.assert_events(&id, &["payment.pending", "payment.succeeded"]).await;
    let metrics = world.http.get(world.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for (result, count) in [("bad_signature", 5), ("applied", 1), ("duplicate", 1), ("ignored", 1)] {
        let line = format!("gatepost_callbacks_total{{connector=\"simulator\",result=\"{result}\"}} {count}");
        assert!(metrics.contains(&line), "{line} in:\n{metrics}");
    }
    watch.finish().await;
}

on_backend!(sqlite, Sqlite: only_a_callback_signed_with_the_shared_secret_settles_a_payment);
on_backend!(postgres, Postgres: only_a_callback_signed_with_the_shared_secret_settles_a_payment);
