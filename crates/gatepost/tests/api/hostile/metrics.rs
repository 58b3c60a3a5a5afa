//! `/metrics` (docs/reference/operations.md): every series from the start, and behind a
//! token when one is configured.

use gatepost_testkit::{Backend, TestApp, problem};

async fn metrics_text(app: &TestApp) -> String {
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn every_labelled_series_is_exported_at_zero_from_start_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let text = metrics_text(&app).await;

    for series in [
        "gatepost_payments_created_total 0",
        "gatepost_payment_transitions_total{from=\"OPEN\",to=\"SUCCESS\"} 0",
        "gatepost_payment_transitions_total{from=\"OPEN\",to=\"OPEN\"} 0",
        "gatepost_payment_transitions_total{from=\"PENDING\",to=\"FAILED\"} 0",
        "gatepost_payment_transitions_total{from=\"AUTHORIZED\",to=\"CANCELLED\"} 0",
        "gatepost_payment_transitions_total{from=\"SUCCESS\",to=\"REFUNDED\"} 0",
        "gatepost_webhook_attempts_total{outcome=\"delivered\"} 0",
        "gatepost_webhook_attempts_total{outcome=\"failed\"} 0",
        "gatepost_webhook_attempts_total{outcome=\"blocked\"} 0",
        "gatepost_callbacks_total{connector=\"sandbox\",result=\"applied\"} 0",
        "gatepost_callbacks_total{connector=\"sandbox\",result=\"bad_signature\"} 0",
        "gatepost_webhook_backlog 0",
        "gatepost_webhook_endpoints{status=\"enabled\"} 0",
        "gatepost_webhook_endpoints{status=\"disabled\"} 0",
    ] {
        assert!(text.contains(series), "{series} in:\n{text}");
    }
    assert!(!text.contains("from=\"FAILED\""), "no series for a move the status machine never makes");
}

async fn a_metrics_token_keeps_metrics_from_anyone_without_it(backend: Backend) {
    let app = TestApp::spawn_configured(backend, |config| config.metrics_token = Some("m-token-1".into())).await;
    let metrics = app.url("/metrics");

    let refused = [
        app.http.get(&metrics).send().await.unwrap(),
        app.http.get(&metrics).bearer_auth("m-token-2").send().await.unwrap(),
        app.http.get(&metrics).bearer_auth(&app.merchant.api_key).send().await.unwrap(),
        app.http.get(&metrics).header("authorization", "Basic bS10b2tlbi0x").send().await.unwrap(),
    ];
    for response in refused {
        let (status, body) = problem(response).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    }

    for header in ["Bearer m-token-1", "bearer m-token-1", "BEARER m-token-1"] {
        let response = app.http.get(&metrics).header("authorization", header).send().await.unwrap();
        assert_eq!(response.status(), 200, "{header}");
        assert!(response.text().await.unwrap().contains("gatepost_payments_created_total"));
    }
}

/// `gatepost_webhook_endpoints{status}` counts every merchant's endpoints by status.
async fn endpoints_are_counted_by_status(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = app.create_merchant("Other Shop").await;
    let mut ids = Vec::new();
    for (key, n) in [(&app.merchant.api_key, 1), (&app.merchant.api_key, 2), (&other.api_key, 3)] {
        let body = serde_json::json!({"url": format!("https://hooks{n}.example/in")}).to_string();
        let created = app.post_as(key, "/v1/webhook_endpoints", body, None).await;
        assert_eq!(created.status(), 201);
        ids.push(created.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned());
    }
    let disabled = app
        .http
        .patch(app.url(&format!("/v1/webhook_endpoints/{}", ids[0])))
        .bearer_auth(&app.merchant.api_key)
        .body(r#"{"status":"disabled"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200);
    // The first read of /metrics: the gauge comes from the database now.
    let text = metrics_text(&app).await;
    assert!(text.contains("gatepost_webhook_endpoints{status=\"enabled\"} 2"), "{text}");
    assert!(text.contains("gatepost_webhook_endpoints{status=\"disabled\"} 1"), "{text}");
}

gatepost_testkit::for_each_backend!(
    endpoints_are_counted_by_status,
    every_labelled_series_is_exported_at_zero_from_start_up,
    a_metrics_token_keeps_metrics_from_anyone_without_it,
);
