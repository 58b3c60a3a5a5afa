//! Bad input gets a clear answer and writes nothing (docs/reference/api.md#errors,
//! docs/reference/payments.md#creating-a-payment, docs/reference/urls.md).

use gatepost_testkit::{TestApp, problem};
use serde_json::{Value, json};

/// A valid body with one field replaced (or removed, for `Value::Null` on a required one).
fn with(field: &str, value: Value) -> Value {
    let mut body = json!({"amount": 1050, "currency": "EUR"});
    body[field] = value;
    body
}

fn without(field: &str) -> Value {
    let mut body = json!({"amount": 1050, "currency": "EUR"});
    body.as_object_mut().unwrap().remove(field);
    body
}

/// (what is wrong, body, the `param` and `code` the 422 names)
fn invalid_bodies() -> Vec<(&'static str, Value, &'static str, &'static str)> {
    let long = |n: usize| "x".repeat(n);
    let many_keys: serde_json::Map<String, Value> = (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    vec![
        ("amount 0", with("amount", json!(0)), "amount", "must_be_positive"),
        ("negative amount", with("amount", json!(-5)), "amount", "must_be_positive"),
        ("float amount", with("amount", json!(10.5)), "amount", "invalid_type"),
        ("string amount", with("amount", json!("1050")), "amount", "invalid_type"),
        ("amount too large", with("amount", json!(100_000_000_000_i64)), "amount", "too_large"),
        ("amount beyond i64", with("amount", json!(1e20)), "amount", "invalid_type"),
        ("missing amount", without("amount"), "amount", "required"),
        ("unknown currency", with("currency", json!("XYZ")), "currency", "invalid_currency"),
        ("lowercase currency", with("currency", json!("eur")), "currency", "invalid_currency"),
        ("missing currency", without("currency"), "currency", "required"),
        ("max_attempts 0", with("max_attempts", json!(0)), "max_attempts", "out_of_range"),
        ("max_attempts 11", with("max_attempts", json!(11)), "max_attempts", "out_of_range"),
        ("expires_in 59", with("expires_in", json!(59)), "expires_in", "out_of_range"),
        ("expires_in over 30 days", with("expires_in", json!(2_592_001)), "expires_in", "out_of_range"),
        ("unknown field", with("amout", json!(1)), "amout", "unknown_field"),
        ("unknown nested field", with("customer", json!({"mail": "a@b.c"})), "customer.mail", "unknown_field"),
        ("javascript return URL", with("return_url", json!("javascript:alert(1)")), "return_url", "invalid_url"),
        ("relative return URL", with("return_url", json!("/checkout/return")), "return_url", "invalid_url"),
        (
            "reserved return parameter",
            with("return_url", json!("https://shop.example/r?payment_status=SUCCESS")),
            "return_url",
            "reserved_parameter",
        ),
        (
            "reserved parameter in return_urls",
            with("return_urls", json!({"success": "https://shop.example/r?signature=x"})),
            "return_urls.success",
            "reserved_parameter",
        ),
        ("ftp webhook URL", with("webhook_url", json!("ftp://shop.example/hook")), "webhook_url", "invalid_url"),
        ("return_method PUT", with("return_method", json!("PUT")), "return_method", "invalid_value"),
        ("capture later", with("capture", json!("later")), "capture", "invalid_value"),
        ("reference too long", with("reference", json!(long(129))), "reference", "too_long"),
        ("description too long", with("description", json!(long(501))), "description", "too_long"),
        ("metadata value too long", with("metadata", json!({"k": long(501)})), "metadata.k", "too_long"),
        ("metadata with 21 keys", with("metadata", Value::Object(many_keys)), "metadata", "too_many_keys"),
        ("metadata value not a string", with("metadata", json!({"k": 1})), "metadata.k", "invalid_type"),
        ("customer email", with("customer", json!({"email": "not-an-address"})), "customer.email", "invalid_email"),
    ]
}

async fn every_invalid_body_is_a_422_naming_the_field_and_nothing_is_written(app: TestApp) {
    for (case, body, param, code) in invalid_bodies() {
        let (status, problem) = problem(app.post_json("/v1/payments", &body).await).await;

        assert_eq!(status, 422, "{case}: {problem}");
        assert_eq!(problem["code"], "validation_failed", "{case}");
        let errors = problem["errors"].as_array().unwrap();
        assert!(
            errors.iter().any(|e| e["param"] == param && e["code"] == code),
            "{case}: expected {param}/{code} in {problem}"
        );
    }

    assert_eq!(app.list_payments("").await["data"], json!([]), "no partial write");
}

async fn all_problems_of_a_body_are_reported_together(app: TestApp) {
    let body = json!({"amount": 0, "currency": "XXX", "max_attempts": 0, "return_url": "javascript:x"});

    let (_, problem) = problem(app.post_json("/v1/payments", &body).await).await;

    let params: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["param"].as_str().unwrap()).collect();
    for param in ["amount", "currency", "max_attempts", "return_url"] {
        assert!(params.contains(&param), "{param} in {params:?}");
    }
}

async fn boundary_values_are_accepted(app: TestApp) {
    for body in [
        with("amount", json!(99_999_999_999_i64)),
        with("amount", json!(1)),
        with("max_attempts", json!(1)),
        with("max_attempts", json!(10)),
        with("expires_in", json!(60)),
        with("expires_in", json!(2_592_000)),
        with("reference", json!("r".repeat(128))),
        with("currency", json!("BHD")),
        with("return_url", json!("http://localhost:3000/return")),
    ] {
        let response = app.post_json("/v1/payments", &body).await;
        assert_eq!(response.status(), 201, "{body}");
    }
}

async fn malformed_json_is_a_400(app: TestApp) {
    for body in ["{", "{\"amount\": 10,}", "[]", "\"text\"", "null"] {
        let (status, problem) = problem(app.post_raw("/v1/payments", body).await).await;
        assert_eq!((status, problem["code"].as_str().unwrap()), (400, "invalid_json"), "{body}");
    }
}

async fn a_body_over_64_kib_is_a_413(app: TestApp) {
    let padding = "x".repeat(70 * 1024);
    let body = format!(r#"{{"amount":1050,"currency":"EUR","description":"{padding}"}}"#);

    let (status, problem) = problem(app.post_raw("/v1/payments", body).await).await;

    assert_eq!((status, problem["code"].as_str().unwrap()), (413, "payload_too_large"));
    assert_eq!(app.list_payments("").await["data"], json!([]));
}

gatepost_testkit::on_both_backends!(
    every_invalid_body_is_a_422_naming_the_field_and_nothing_is_written,
    all_problems_of_a_body_are_reported_together,
    boundary_values_are_accepted,
    malformed_json_is_a_400,
    a_body_over_64_kib_is_a_413,
);
