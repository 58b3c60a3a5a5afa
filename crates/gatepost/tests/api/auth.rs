//! Secret keys (docs/reference/api.md#authentication): every API route needs one.

use gatepost_testkit::{TestApp, problem};

async fn requests_without_a_valid_key_are_401_on_every_route(app: TestApp) {
    let routes = [
        ("GET", "/v1/payments"),
        ("POST", "/v1/payments"),
        ("GET", "/v1/payments/pay_x"),
        ("POST", "/v1/payments/pay_x/cancel"),
    ];
    let wrong_key = format!("{}x", app.merchant.api_key);
    let headers: [Option<String>; 5] = [
        None,
        Some("Basic dXNlcjpwYXNz".into()),
        Some("Bearer".into()),
        Some("Bearer not-a-key".into()),
        Some(format!("Bearer {wrong_key}")),
    ];
    for (method, path) in routes {
        for header in &headers {
            let mut request = app.http.request(method.parse().unwrap(), app.url(path)).body("{}");
            if let Some(header) = header {
                request = request.header("authorization", header);
            }
            let (status, body) = problem(request.send().await.unwrap()).await;
            assert_eq!((status, body["code"].as_str().unwrap()), (401, "unauthorized"), "{method} {path} {header:?}");
        }
    }
    assert_eq!(app.list_payments("").await["data"].as_array().unwrap().len(), 0);
}

async fn a_key_created_while_the_server_runs_works_at_once(app: TestApp) {
    let newcomer = app.create_merchant("Newcomer").await;

    let response = app.get_as(&newcomer.api_key, "/v1/payments").await;

    assert_eq!(response.status(), 200);
}

async fn api_keys_are_stored_only_as_hashes(app: TestApp) {
    let dump = format!("{:?}", app.store.list_merchants().await.unwrap());
    assert!(!dump.contains(&app.merchant.api_key));
    let hash = gatepost_core::payment::ApiKey::from_presented(&app.merchant.api_key).hash();
    let found = app.store.merchant_by_api_key_hash(&hash).await.unwrap().expect("found by hash");
    assert_eq!(found.id.as_str(), app.merchant.id);
}

gatepost_testkit::on_both_backends!(
    requests_without_a_valid_key_are_401_on_every_route,
    a_key_created_while_the_server_runs_works_at_once,
    api_keys_are_stored_only_as_hashes,
);
