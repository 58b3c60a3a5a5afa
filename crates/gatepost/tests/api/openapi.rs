//! `GET /openapi.json` describes what the server really does
//! (docs/reference/api.md#openapi-document).

use crate::checkout::HostedPage as _;
use gatepost_testkit::{Backend, TestApp};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn keys(object: &Value) -> BTreeSet<String> {
    object.as_object().expect("an object").keys().cloned().collect()
}

async fn document(app: &TestApp) -> Value {
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_every_route() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = document(&app).await;

    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let operations: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |method| format!("{method} {path}")))
        .collect();
    let served: BTreeSet<String> = [
        "post /v1/payments",
        "get /v1/payments",
        "get /v1/payments/{id}",
        "post /v1/payments/{id}/cancel",
        "post /v1/payments/{id}/capture",
        "post /v1/payments/{id}/refunds",
        "get /v1/payments/{id}/refunds",
        "get /v1/events",
        "get /v1/events/{id}",
        "get /v1/events/{id}/deliveries",
        "post /v1/events/{id}/resend",
        "get /v1/merchant",
        "patch /v1/merchant",
        "post /v1/merchant/webhook-secret/rotate",
        "post /v1/webhook_endpoints",
        "get /v1/webhook_endpoints",
        "get /v1/webhook_endpoints/{id}",
        "patch /v1/webhook_endpoints/{id}",
        "delete /v1/webhook_endpoints/{id}",
        "post /v1/webhook_endpoints/{id}/rotate-secret",
        "post /v1/webhook_endpoints/{id}/test",
        "post /v1/webhook_endpoints/{id}/recover",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(operations, served);
    assert_eq!(doc["components"]["securitySchemes"]["api_key"]["scheme"], "bearer");
}

#[tokio::test]
async fn the_payment_schema_has_exactly_the_fields_the_api_returns() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = document(&app).await;
    let payment = app.create_payment(&json!({"amount": 100, "currency": "EUR"})).await;
    let list = app.list_payments("").await;

    let schemas = &doc["components"]["schemas"];
    assert_eq!(keys(&schemas["Payment"]["properties"]), keys(&payment));
    let list_schema =
        doc["paths"]["/v1/payments"]["get"]["responses"]["200"]["content"]["application/json"]["schema"].clone();
    let list_properties = match list_schema.get("$ref") {
        Some(reference) => {
            let name = reference.as_str().unwrap().rsplit('/').next().unwrap();
            schemas[name]["properties"].clone()
        }
        None => list_schema["properties"].clone(),
    };
    assert_eq!(keys(&list_properties), keys(&list));
}

#[tokio::test]
async fn the_refund_schema_has_exactly_the_fields_the_api_returns() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = document(&app).await;
    let checkout = app.checkout(json!({"return_url": "https://shop.example/r"})).await;
    app.pay(&checkout, "4242424242424242").await;

    let refund: serde_json::Value = app
        .post_json(&format!("/v1/payments/{}/refunds", checkout.payment_id), &json!({"amount": 100}))
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(keys(&doc["components"]["schemas"]["Refund"]["properties"]), keys(&refund));
    let for_refunds = &doc["components"]["schemas"]["RefundIn"];
    assert_eq!(for_refunds["additionalProperties"], false, "unknown fields are refused");
}

#[tokio::test]
async fn the_request_schema_lists_every_accepted_field_and_refuses_others() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let doc = document(&app).await;
    let schema = &doc["components"]["schemas"]["PaymentIn"];

    let documented = keys(&schema["properties"]);
    let accepted: BTreeSet<String> = [
        "amount",
        "currency",
        "reference",
        "description",
        "customer",
        "capture",
        "return_url",
        "return_urls",
        "return_method",
        "webhook_url",
        "max_attempts",
        "expires_in",
        "metadata",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(documented, accepted);
    assert_eq!(schema["required"], json!(["amount", "currency"]));
    assert_eq!(schema["additionalProperties"], false, "unknown fields are refused");
}
