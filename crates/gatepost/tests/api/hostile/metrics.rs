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

gatepost_testkit::for_each_backend!(
    every_labelled_series_is_exported_at_zero_from_start_up,
    a_metrics_token_keeps_metrics_from_anyone_without_it,
);
