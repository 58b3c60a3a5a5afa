//! A payment whose 201 was received survives `kill -9` (SPEC §10, §13).

use crate::cli::{create_merchant, serve};
use crate::support::{Backend, TestDatabase};
use serde_json::Value;

async fn acknowledged_payments_survive_kill_9(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let merchant = create_merchant(&database.url).await;
    let key = merchant["api_key"].as_str().unwrap().to_owned();
    let http = reqwest::Client::new();
    let mut server = serve(&database.url).await;

    // Many concurrent creations, so some share a group commit with others.
    let creations = (0..50).map(|n| {
        http.post(format!("{}/v1/payments", server.base_url))
            .bearer_auth(&key)
            .body(format!(r#"{{"amount":{},"currency":"EUR","reference":"order-{n}"}}"#, 100 + n))
            .send()
    });
    let mut acknowledged = Vec::new();
    for response in futures::future::join_all(creations).await {
        let response = response.unwrap();
        assert_eq!(response.status(), 201);
        acknowledged.push(response.json::<Value>().await.unwrap());
    }
    server.child.kill().await.expect("SIGKILL");
    server.child.wait().await.unwrap();

    let restarted = serve(&database.url).await;
    for payment in &acknowledged {
        let id = payment["id"].as_str().unwrap();
        let response =
            http.get(format!("{}/v1/payments/{id}", restarted.base_url)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(response.status(), 200, "{id} lost");
        assert_eq!(&response.json::<Value>().await.unwrap(), payment);
    }
}

#[tokio::test]
async fn sqlite_payments_survive_kill_9() {
    acknowledged_payments_survive_kill_9(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_payments_survive_kill_9() {
    acknowledged_payments_survive_kill_9(Backend::Postgres).await;
}
