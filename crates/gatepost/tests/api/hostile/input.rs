//! Malformed and hostile input to the API (docs/reference/limits.md#input): the right status
//! and code, as problem+json, the same on both backends, and nothing stored.

use gatepost_testkit::{Backend, TestApp, problem};
use serde_json::{Value, json};

/// One payment body with `field` set to `value`, merged into a minimal payment.
fn payment_with(field: &str, value: Value) -> Value {
    let mut body = json!({"amount": 1050, "currency": "EUR"});
    let mut target = &mut body;
    let mut parts = field.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            target[part] = value.clone();
        } else {
            if target.get(part).is_none() {
                target[part] = json!({});
            }
            target = &mut target[part];
        }
    }
    body
}

async fn control_characters_in_text_fields_are_refused_alike_on_both_backends(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        ("description", "two\0lines"),
        ("reference", "order\0-1"),
        ("reference", "order\n1"),
        ("reference", "order\u{7f}"),
        ("customer.name", "Ana\u{1b}[31m"),
        ("metadata.cart", "c\0_81"),
        ("return_url", "https://shop.example/r\0"),
        ("return_urls.success", "https://shop.example/\u{1}ok"),
        ("webhook_url", "https://shop.example/hook\0"),
    ];
    for (field, value) in cases {
        let response = app.post_json("/v1/payments", &payment_with(field, json!(value))).await;
        let (status, body) = problem(response).await;
        assert_eq!(status, 422, "{field} = {value:?}");
        assert_eq!(body["errors"][0]["param"], field, "{body}");
        assert_eq!(body["errors"][0]["code"], "invalid_value", "{body}");
    }

    let email = app.post_json("/v1/payments", &payment_with("customer.email", json!("ana\0@example.com"))).await;
    assert_eq!(problem(email).await.1["errors"][0]["code"], "invalid_value", "a control character, as in every field");
    let not_an_address = app.post_json("/v1/payments", &payment_with("customer.email", json!("ana@example"))).await;
    assert_eq!(problem(not_an_address).await.1["errors"][0]["code"], "invalid_email");

    let multi_line = app.create_payment(&payment_with("description", json!("two\nlines\twith a tab"))).await;
    assert_eq!(multi_line["description"], "two\nlines\twith a tab", "a description may span lines");
    assert_eq!(app.list_payments("").await["data"].as_array().unwrap().len(), 1, "nothing else was stored");

    let filter = app.get("/v1/payments?reference=a%00b").await;
    let (status, body) = problem(filter).await;
    assert_eq!((status, body["errors"][0]["param"].as_str()), (422, Some("reference")));

    for patch in
        [json!({"default_webhook_url": "https://shop.example/\0"}), json!({"allowed_return_hosts": ["shop\0.example"]})]
    {
        let response = gatepost_testkit::http()
            .patch(app.url("/v1/merchant"))
            .bearer_auth(&app.merchant.api_key)
            .body(patch.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(problem(response).await.0, 422, "{patch}");
    }
}

async fn a_key_given_twice_in_one_object_is_invalid_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for body in [
        r#"{"amount": 1050, "currency": "EUR", "amount": 1}"#,
        r#"{"amount": 1050, "currency": "EUR", "metadata": {"a": "1", "a": "2"}}"#,
        r#"{"amount": 1050, "currency": "EUR", "customer": {"name": "A", "name": "B"}}"#,
    ] {
        let (status, problem) = problem(app.post_raw("/v1/payments", body).await).await;
        assert_eq!((status, problem["code"].as_str()), (400, Some("invalid_json")), "{body}");
    }
    assert!(app.list_payments("").await["data"].as_array().unwrap().is_empty());
}

async fn malformed_query_strings_and_path_segments_answer_problem_json(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let payment = app.create_payment(&json!({"amount": 1, "currency": "EUR"})).await;
    let id = payment["id"].as_str().unwrap();

    for (path, expected) in [
        ("/v1/payments?limit=1&limit=2", 422),
        ("/v1/events?type=payment.cancelled&type=payment.expired", 422),
        (&format!("/v1/payments/{id}/refunds?limit=1&limit=2"), 422),
        ("/v1/payments/%FF", 404),
        ("/v1/payments/%FF%FE/refunds", 404),
        ("/v1/events/%C3%28", 404),
        ("/v1/events/%FF/deliveries", 404),
    ] {
        let (status, _) = problem(app.get(path).await).await;
        assert_eq!(status, expected, "{path}");
    }
    for path in ["/v1/payments?starting_after=", "/v1/payments?limit=", "/v1/payments?reference=", "/v1/events?type="] {
        let (status, _) = problem(app.get(path).await).await;
        assert_eq!(status, 422, "an empty value is not a value: {path}");
    }
}

async fn urls_are_stored_as_they_parse_and_urls_a_parser_must_repair_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let payment = app
        .create_payment(&json!({"amount": 1, "currency": "EUR", "return_url": "https://Shop.Example/r?a=1",
            "webhook_url": "https://Hooks.Example:443/in"}))
        .await;

    assert_eq!(payment["return_url"], "https://shop.example/r?a=1");
    assert_eq!(payment["webhook_url"], "https://hooks.example/in");
    for repaired in ["http:evil.example/r", "http:/evil.example/r", "https://evil.example\\r", "HTTPS://evil.example/"]
    {
        let response =
            app.post_json("/v1/payments", &json!({"amount": 1, "currency": "EUR", "return_url": repaired})).await;
        let (status, body) = problem(response).await;
        assert_eq!((status, body["errors"][0]["code"].as_str()), (422, Some("invalid_url")), "{repaired}");
    }
}

async fn the_bearer_scheme_is_case_insensitive(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = app
            .http
            .get(app.url("/v1/payments"))
            .header("authorization", format!("{scheme} {}", app.merchant.api_key))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
    }
    let (status, _) = problem(
        app.http
            .get(app.url("/v1/payments"))
            .header("authorization", app.merchant.api_key.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "a key without a scheme");
}

gatepost_testkit::for_each_backend!(
    control_characters_in_text_fields_are_refused_alike_on_both_backends,
    a_key_given_twice_in_one_object_is_invalid_json,
    malformed_query_strings_and_path_segments_answer_problem_json,
    urls_are_stored_as_they_parse_and_urls_a_parser_must_repair_are_refused,
    the_bearer_scheme_is_case_insensitive,
);
