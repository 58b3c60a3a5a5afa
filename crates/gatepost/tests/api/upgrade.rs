//! A database written before webhook endpoints existed (schema version 6) migrates on start
//! and keeps delivering what was pending, neither lost nor doubled
//! (docs/reference/webhooks.md#fan-out).

use gatepost_core::signing::WebhookSecret;
use gatepost_testkit::receiver::{Receiver, python, python_verifies};
use gatepost_testkit::{Backend, TestApp, TestDatabase};
use serde_json::{Value, json};
use sha2::Digest as _;
use std::time::Duration;

/// The schema as version 6 left it.
const SQLITE_V6: [&str; 6] = [
    include_str!("../../../gatepost-store/migrations/sqlite/0001_payments.sql"),
    include_str!("../../../gatepost-store/migrations/sqlite/0002_attempts.sql"),
    include_str!("../../../gatepost-store/migrations/sqlite/0003_deliveries.sql"),
    include_str!("../../../gatepost-store/migrations/sqlite/0004_refunds_and_callbacks.sql"),
    include_str!("../../../gatepost-store/migrations/sqlite/0005_pending_events.sql"),
    include_str!("../../../gatepost-store/migrations/sqlite/0006_one_index_per_payment_sequence.sql"),
];
const POSTGRES_V6: [&str; 6] = [
    include_str!("../../../gatepost-store/migrations/postgres/0001_payments.sql"),
    include_str!("../../../gatepost-store/migrations/postgres/0002_attempts.sql"),
    include_str!("../../../gatepost-store/migrations/postgres/0003_deliveries.sql"),
    include_str!("../../../gatepost-store/migrations/postgres/0004_refunds_and_callbacks.sql"),
    include_str!("../../../gatepost-store/migrations/postgres/0005_pending_events.sql"),
    include_str!("../../../gatepost-store/migrations/postgres/0006_one_index_per_payment_sequence.sql"),
];

const KEY: &str = "sk_test_written_by_version_6";

/// What version 6 held: a merchant with a default URL, a payment with its own URL, one
/// event of it delivered (with its attempt) and one still pending after two failures. `blob`
/// writes text as the backend's bytes.
fn rows(secret: &str, own_url: &str, default_url: &str, blob: impl Fn(&str) -> String) -> String {
    let key_hash: String = sha2::Sha256::digest(KEY.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let body = |id: &str, sequence: u8| {
        blob(&format!(
            r#"{{"id":"{id}","type":"payment.cancelled","timestamp":"2026-11-01T00:00:00.000Z","sequence":{sequence},"data":{{"id":"pay_v6"}}}}"#
        ))
    };
    let versions: Vec<String> = (1..=6).map(|v| format!("INSERT INTO schema_migrations VALUES ({v}, 0);")).collect();
    format!(
        "{versions}
        INSERT INTO merchants (id, name, api_key_hash, webhook_secret, default_webhook_url, webhook_ack_mode,
            allowed_return_hosts, connector, created_at)
            VALUES ('mer_v6', 'Version 6 Shop', '{key_hash}', '{secret}', '{default_url}', 'status', '[]', 'sandbox', 0);
        INSERT INTO payments (id, merchant_id, status, amount, currency, amount_captured, amount_refunded, metadata,
            capture, max_attempts, attempts_remaining, checkout_token, checkout_url, return_urls, return_method,
            webhook_url, livemode, event_sequence, created_at, updated_at, expires_at)
            VALUES ('pay_v6', 'mer_v6', 'CANCELLED', 500, 'EUR', 0, 0, '{{}}', 'automatic', 3, 3, 'tok_v6',
            'http://gw/pay/tok_v6', '{{}}', 'GET', '{own_url}', 0, 2, 0, 0, 0);
        INSERT INTO events (id, merchant_id, payment_id, type, sequence, body, created_at, webhook_url,
            delivery_status, delivery_attempts, next_attempt_at, last_attempt_at, resend_requested)
            VALUES ('evt_v6delivered', 'mer_v6', 'pay_v6', 'payment.cancelled', 1, {first}, 1, '{own_url}',
            'DELIVERED', 1, NULL, 1, 0),
            ('evt_v6pending', 'mer_v6', 'pay_v6', 'payment.cancelled', 2, {second}, 2, '{own_url}',
            'PENDING', 2, 2, 2, 0);
        INSERT INTO deliveries (id, event_id, url, attempted_at, duration_ms, status_code, error, response_body, trigger)
            VALUES ('del_v6', 'evt_v6delivered', '{own_url}', 1, 5, 200, NULL, 'ok', 'automatic');",
        versions = versions.join("\n"),
        first = body("evt_v6delivered", 1),
        second = body("evt_v6pending", 2),
    )
}

async fn write_version_6(backend: Backend, database: &TestDatabase, rows: &str) {
    match backend {
        Backend::Sqlite => {
            let path = database.url.trim_start_matches("sqlite://");
            let script = "import json, sqlite3, sys\nwork = json.load(sys.stdin)\nc = sqlite3.connect(work['path'])\nc.executescript(work['sql'])\nc.commit()\nprint('ok')";
            let sql = format!(
                "{}\nCREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);\n{rows}",
                SQLITE_V6.join("\n")
            );
            assert_eq!(python(script, &json!({"path": path, "sql": sql})), "ok");
        }
        Backend::Postgres => {
            let (client, connection) = tokio_postgres::connect(&database.url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            client.batch_execute(&POSTGRES_V6.join("\n")).await.unwrap();
            client
                .batch_execute(
                    "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                )
                .await
                .unwrap();
            client.batch_execute(rows).await.unwrap();
        }
    }
}

async fn a_version_6_database_migrates_and_delivers_what_was_pending(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let (own, default) = (Receiver::start().await, Receiver::start().await);
    let secret = WebhookSecret::generate().expose();
    let blob = |text: &str| match backend {
        Backend::Sqlite => format!("CAST('{text}' AS BLOB)"),
        Backend::Postgres => format!("convert_to('{text}', 'UTF8')"),
    };
    write_version_6(backend, &database, &rows(&secret, &own.url, &default.url, blob)).await;

    let mut config = TestApp::config(&database);
    config.webhooks.retry_schedule = vec![Duration::from_millis(100)];
    let app = TestApp::spawn_with(config, database, std::sync::Arc::new(gatepost_core::time::SystemClock)).await;

    // The pending event reaches the payment's own URL once, signed as before; the delivered
    // one is not sent again, and the default URL, which the payment's own URL overrode,
    // gets nothing.
    let received = own.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received[0].header("webhook-id"), "evt_v6pending");
    assert!(python_verifies(&secret, &received[0]));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(own.received().len(), 1);
    assert!(default.received().is_empty());

    let event: Value = app.get_as(KEY, "/v1/events/evt_v6pending").await.json().await.unwrap();
    assert_eq!(event["delivery"]["status"], "DELIVERED");
    assert_eq!(event["destinations"].as_array().unwrap().len(), 1);
    let destination = &event["destinations"][0];
    assert_eq!((&destination["endpoint_id"], &destination["url"]), (&Value::Null, &json!(own.url)));
    assert_eq!(destination["attempts"], 3, "the two attempts before the upgrade count");
    let old: Value = app.get_as(KEY, "/v1/events/evt_v6delivered/deliveries").await.json().await.unwrap();
    assert_eq!(old["data"].as_array().unwrap().len(), 1, "the attempts log is kept");
    assert_eq!(old["data"][0]["endpoint_id"], Value::Null);

    // The merchant's key became its first listed key; only its hash was ever kept, so it
    // has no prefix to show.
    let keys = app.store.api_keys(&gatepost_core::ids::MerchantId::from_trusted("mer_v6".into())).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].prefix.as_deref(), keys[0].revoked_at), (None, None));

    // The default URL became the default endpoint, which new events without a URL reach.
    let endpoints: Value = app.get_as(KEY, "/v1/webhook_endpoints").await.json().await.unwrap();
    assert_eq!(endpoints["data"].as_array().unwrap().len(), 1);
    assert_eq!(endpoints["data"][0]["description"], "default");
    assert_eq!(endpoints["data"][0]["url"], default.url);
    let created: Value = app
        .http
        .post(app.url("/v1/payments"))
        .bearer_auth(KEY)
        .body(json!({"amount": 100, "currency": "EUR"}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let cancelled = app.http.post(app.url(&format!("/v1/payments/{id}/cancel"))).bearer_auth(KEY).send().await;
    assert_eq!(cancelled.unwrap().status(), 200);
    let got = default.wait_for(1, Duration::from_secs(10)).await;
    assert!(python_verifies(&secret, &got[0]), "the default endpoint signs with the merchant's secret");
}

gatepost_testkit::for_each_backend!(a_version_6_database_migrates_and_delivers_what_was_pending);
