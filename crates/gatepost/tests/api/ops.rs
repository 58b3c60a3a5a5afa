//! Operations endpoints and unknown routes (docs/reference/operations.md).

use crate::checkout::HostedPage as _;
use gatepost_testkit::{TestApp, problem};

async fn health_and_readiness_answer_200(app: TestApp) {
    assert_eq!(app.http.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(app.http.get(app.url("/readyz")).send().await.unwrap().status(), 200);
}

async fn unknown_routes_and_methods_answer_in_problem_details(app: TestApp) {
    let (status, body) = problem(app.get("/v1/nothing-here").await).await;
    assert_eq!((status, body["code"].as_str().unwrap()), (404, "not_found"));

    let response = app.http.delete(app.url("/v1/payments")).bearer_auth(&app.merchant.api_key).send().await.unwrap();
    assert_eq!(problem(response).await.0, 405);
}

async fn shutdown_finishes_cleanly(mut app: TestApp) {
    app.create_payment(&serde_json::json!({"amount": 100, "currency": "EUR"})).await;

    app.stop().await;

    assert!(app.http.get(app.url("/healthz")).send().await.is_err(), "no longer accepting");
}

async fn metrics_count_payments_transitions_and_webhook_attempts(app: TestApp) {
    let receiver = gatepost_testkit::receiver::Receiver::start().await;
    let checkout = app.checkout(serde_json::json!({"webhook_url": receiver.url})).await;
    app.pay(&checkout, "4242424242424242").await;
    receiver.wait_for(1, std::time::Duration::from_secs(10)).await;

    let mut text = String::new();
    for _ in 0..50 {
        text = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        if text.contains("gatepost_webhook_attempts_total{outcome=\"delivered\"} 1")
            && text.contains("gatepost_webhook_backlog 0")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    assert!(text.contains("gatepost_payments_created_total 1"), "{text}");
    assert!(text.contains("gatepost_payment_transitions_total{from=\"OPEN\",to=\"SUCCESS\"} 1"), "{text}");
    assert!(text.contains("gatepost_webhook_attempts_total{outcome=\"delivered\"} 1"), "{text}");
    assert!(text.contains("gatepost_webhook_attempt_duration_seconds_count 1"), "{text}");
    assert!(text.contains("gatepost_webhook_event_to_delivery_seconds_count 1"), "{text}");
    assert!(text.contains("gatepost_webhook_backlog 0"), "{text}");
}

gatepost_testkit::on_both_backends!(
    metrics_count_payments_transitions_and_webhook_attempts,
    health_and_readiness_answer_200,
    unknown_routes_and_methods_answer_in_problem_details,
    shutdown_finishes_cleanly,
);
