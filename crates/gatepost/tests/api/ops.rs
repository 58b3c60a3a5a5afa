//! Operations endpoints and unknown routes (SPEC §12).

use crate::on_both_backends;
use crate::support::{TestApp, problem};

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

on_both_backends!(
    health_and_readiness_answer_200,
    unknown_routes_and_methods_answer_in_problem_details,
    shutdown_finishes_cleanly,
);
