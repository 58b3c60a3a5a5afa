//! A merchant moves from the sandbox to the simulator with `PATCH /v1/merchant`
//! (docs/reference/connectors.md#choosing-a-connector).

use super::cards::{APPROVED, ASYNC_APPROVED};
use super::on_backend;
use super::world::World;
use gatepost_testkit::{Backend, problem};
use serde_json::{Value, json};

async fn a_sandbox_merchant_switches_to_the_simulator_and_its_next_payment_goes_there(backend: Backend) {
    let world = World::on(backend).connector("sandbox").start().await;
    let before = world.paid(json!({}), APPROVED).await;
    assert_eq!(world.stored_attempt(&before, 0).await.connector, "sandbox");

    let (status, body) = problem(world.patch("/v1/merchant", &json!({"connector": "elsewhere"})).await).await;
    assert_eq!((status, body["errors"][0]["param"].as_str()), (422, Some("connector")));
    let response = world.patch("/v1/merchant", &json!({"connector": "simulator"})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["connector"], "simulator");
    assert_eq!(world.get_json("/v1/merchant").await["connector"], "simulator");

    let after = world.paid(json!({}), ASYNC_APPROVED).await;

    let payment = world.settled(&after, "SUCCESS").await;
    assert_eq!(world.stored_attempt(&after, 0).await.connector, "simulator");
    let attempt = payment["attempts"][0]["id"].as_str().unwrap();
    let callbacks = world.callbacks.wait_about(attempt, "the simulator's callback", |c| !c.is_empty()).await;
    assert_eq!((callbacks[0].status().as_str(), callbacks[0].answer), ("approved", 200));
    world.assert_events(&after, &["payment.pending", "payment.succeeded"]).await;
    assert_eq!(world.stored_attempt(&before, 0).await.connector, "sandbox", "earlier payments stay where they were");
}

on_backend!(sqlite, Sqlite: a_sandbox_merchant_switches_to_the_simulator_and_its_next_payment_goes_there);
