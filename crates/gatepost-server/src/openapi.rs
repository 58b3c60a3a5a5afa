//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the handlers' and wire
//! types' annotations so that it cannot drift from the code
//! (docs/reference/api.md#openapi-document).

use crate::api::endpoints::{CreatedEndpoint, EndpointIn, EndpointPatch, RecoverIn, Recovery, RotatedEndpointSecret};
use crate::api::events::{DeliveryOut, DeliveryState, DestinationOut, EventOut, ResendIn};
use crate::api::merchant::{MerchantOut, MerchantPatch, RotatedSecret};
use crate::api::operations::{CaptureIn, RefundIn};
use crate::api::payment_in::{CustomerIn, PaymentIn, ReturnUrlsIn};
use crate::api::{endpoints, events, merchant, operations, payments};
use crate::error::{FieldError, Problem};
use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use gatepost_core::endpoints::{DisabledReason, EndpointEventType, EndpointStatus, WebhookEndpoint};
use gatepost_core::money::Currency;
use gatepost_core::names::Named as _;
use gatepost_core::payment::{
    AckMode, Attempt, CardSummary, Customer, Payment, Refund, RefundStatus, ReturnUrls, ThreeDs,
};
use gatepost_core::status::{EventType, PaymentStatus};
use gatepost_core::urls::{MAX_URL_BYTES, URL_PATTERN};
use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gatepost",
        description = "Payments API of gatepost, a self-hosted payment gateway. Authenticate with \
                       `Authorization: Bearer sk_test_…`; errors are RFC 9457 problem details.",
    ),
    paths(
        payments::create_payment,
        payments::list_payments,
        payments::retrieve_payment,
        operations::cancel_payment,
        operations::capture_payment,
        operations::create_refund,
        operations::list_refunds,
        events::list_events,
        events::retrieve_event,
        events::list_deliveries,
        events::resend_event,
        merchant::retrieve_merchant,
        merchant::update_merchant,
        merchant::rotate_secret,
        endpoints::create_endpoint,
        endpoints::list_endpoints,
        endpoints::retrieve_endpoint,
        endpoints::update_endpoint,
        endpoints::delete_endpoint,
        endpoints::rotate_endpoint_secret,
        endpoints::test_endpoint,
        endpoints::recover_endpoint,
    ),
    components(schemas(
        PaymentIn, CustomerIn, ReturnUrlsIn, CaptureIn, RefundIn, Payment, Attempt, Refund, RefundStatus, CardSummary, ThreeDs,
        Customer, ReturnUrls, PaymentStatus, EventType, Problem, FieldError, EventOut, DeliveryState,
        DeliveryOut, MerchantOut, MerchantPatch, RotatedSecret, DestinationOut, ResendIn, WebhookEndpoint, EndpointIn,
        EndpointPatch, CreatedEndpoint, RotatedEndpointSecret, RecoverIn, Recovery, EndpointStatus, DisabledReason, AckMode
    )),
    modifiers(&BearerKey),
    tags(
        (name = "payments", description = "Create, read, list, cancel, capture and refund payments"),
        (name = "events", description = "Webhook events and their delivery attempts"),
        (name = "merchant", description = "The merchant's settings and webhook secret"),
        (name = "webhook endpoints", description = "Up to 16 webhook endpoints a merchant, each with its filter and secret"),
    ),
)]
struct ApiDoc;

/// The `api_key` security scheme: a merchant's secret key as a bearer token.
struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("sk_test_…").build()),
        );
    }
}

/// The document of this gateway: the annotations, the shared conventions, and the
/// connectors merchants may choose here.
fn document(connectors: &[&str]) -> String {
    let generated = serde_json::to_value(ApiDoc::openapi()).expect("the OpenAPI document serializes");
    let mut document = with_conventions(generated);
    if let Some(connector) = document.pointer_mut("/components/schemas/MerchantPatch/properties/connector") {
        connector["enum"] = json!(connectors.iter().map(|c| Value::from(*c)).chain([Value::Null]).collect::<Vec<_>>());
    }
    serde_json::to_string_pretty(&document).expect("the OpenAPI document serializes")
}

/// The error answers every operation shares, by status: which operations give them is
/// decided in [`with_conventions`] from what the operation has (docs/reference/api.md#errors).
const SHARED_ANSWERS: [(&str, &str); 8] = [
    ("400", "The body is not a JSON object (`invalid_json`), or a key appears twice in one object"),
    ("401", "Missing or wrong API key (`unauthorized`)"),
    ("404", "No such object for this merchant (`not_found`), or an id that cannot be one"),
    ("408", "The body did not arrive within the body timeout (`request_timeout`)"),
    ("413", "The body is over 64 KiB (`payload_too_large`)"),
    (
        "422",
        "A parameter, header or field is not valid (`validation_failed`), or an `Idempotency-Key` \
         reused with another request (`idempotency_key_reused`)",
    ),
    ("429", "Over the API key's rate limit (`rate_limited`); see `Retry-After`"),
    ("500", "A failure on our side (`internal`); the body names only a reference to the log line"),
];

/// What the annotations cannot say once for every operation (docs/reference/api.md#errors):
/// - every `/v1` operation may answer 401, 422, 429 and 500; one with a body also 400,
///   408 and 413; one with an id in its path also 404 — each as problem+json;
/// - a body whose fields are all optional may be left out (it reads as `{}`);
/// - `currency` takes exactly the ISO 4217 codes the server knows.
fn with_conventions(mut document: Value) -> Value {
    let problem = json!({"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}});
    // Schemas with a field that must be given: a body of one of them cannot be left out.
    let with_required_fields: Vec<String> = document["components"]["schemas"]
        .as_object()
        .map(|schemas| {
            schemas
                .iter()
                .filter(|(_, schema)| schema["required"].as_array().is_some_and(|r| !r.is_empty()))
                .map(|(name, _)| format!("#/components/schemas/{name}"))
                .collect()
        })
        .unwrap_or_default();
    if let Some(paths) = document["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for operation in item.values_mut().filter_map(Value::as_object_mut) {
                let has_body = operation.contains_key("requestBody");
                let has_id = path.contains('{');
                for (status, description) in SHARED_ANSWERS {
                    let applies = match status {
                        "400" | "408" | "413" => has_body,
                        "404" => has_id,
                        _ => path.starts_with("/v1"),
                    };
                    let responses = operation.entry("responses").or_insert_with(|| json!({}));
                    if applies && responses.get(status).is_none() {
                        responses[status] = json!({"description": description, "content": problem});
                    }
                }
                if has_body {
                    let schema = &operation["requestBody"]["content"]["application/json"]["schema"]["$ref"];
                    let required = schema.as_str().is_some_and(|name| with_required_fields.iter().any(|r| r == name));
                    operation["requestBody"]["required"] = json!(required);
                }
            }
        }
    }
    let codes: Vec<&str> = Currency::all().map(Currency::code).collect();
    document["components"]["schemas"]["PaymentIn"]["properties"]["currency"]["enum"] = json!(codes);
    with_input_rules(document)
}

/// Text on one line: no control character (docs/reference/limits.md#input).
const ONE_LINE: &str = r"^[^\u0000-\u001F\u007F]*$";
/// Text that may span lines: tab and newline, but no other control character.
const MULTI_LINE: &str = r"^[^\u0000-\u0008\u000B-\u001F\u007F]*$";
/// An e-mail address as the server checks it: one `@`, and a dot inside the domain.
const EMAIL: &str = r"^[^@\u0000-\u001F\u007F]+@[^@\u0000-\u001F\u007F]+\.[^@\u0000-\u001F\u007F]+$";
/// A host name of `allowed_return_hosts`.
const HOST: &str = r"^[^/: ?#@\u0000-\u001F\u007F]{1,253}$";
/// An `Idempotency-Key`: 1 to 255 visible ASCII characters.
const IDEMPOTENCY_KEY: &str = r"^[!-~]{1,255}$";

/// The pattern of an id with this prefix (`gatepost_core::ids`).
fn id_pattern(prefix: &str) -> String {
    format!("^{prefix}[0-9A-Za-z]{{1,64}}$")
}

/// The rules of the server's own validation that the annotations do not carry, written
/// into the document so that what it calls valid is exactly what the server accepts.
fn with_input_rules(mut document: Value) -> Value {
    let mut schemas = document.pointer_mut("/components/schemas").map(std::mem::take).unwrap_or_default();
    let mut set = |schema: &str, property: &str, rule: Value| {
        let target = schemas.pointer_mut(&format!("/{schema}/properties/{property}")).and_then(Value::as_object_mut);
        let target = target.unwrap_or_else(|| panic!("{schema}.{property} is in the document"));
        if let Some(rule) = rule.as_object() {
            target.extend(rule.clone());
        }
    };
    for (schema, property) in [("PaymentIn", "reference"), ("CustomerIn", "name")] {
        set(schema, property, json!({"pattern": ONE_LINE}));
    }
    for (schema, property) in [("PaymentIn", "description"), ("RefundIn", "reason")] {
        set(schema, property, json!({"pattern": MULTI_LINE}));
    }
    // What an endpoint's filter may name (gatepost_core::endpoints::EnabledEvents).
    let event_types: Vec<&str> =
        EventType::ALL.iter().map(|t| t.as_str()).chain(EndpointEventType::ALL.iter().map(|t| t.as_str())).collect();
    let mut event_names = vec![gatepost_core::endpoints::EVERY_PAYMENT_EVENT];
    event_names.extend(&event_types);
    for schema in ["EndpointIn", "EndpointPatch"] {
        set(schema, "url", json!({"pattern": URL_PATTERN, "maxLength": MAX_URL_BYTES}));
        set(schema, "description", json!({"pattern": ONE_LINE, "maxLength": 500}));
        set(schema, "enabled_events", json!({"minItems": 1, "items": {"type": "string", "enum": event_names}}));
        set(schema, "ack_mode", json!({"enum": ["status", "echo", null]}));
    }
    set("EndpointPatch", "status", json!({"enum": ["enabled", "disabled", null]}));
    set("ResendIn", "endpoint_id", json!({"pattern": id_pattern("we_")}));
    for (schema, property) in [
        ("PaymentIn", "return_url"),
        ("PaymentIn", "webhook_url"),
        ("ReturnUrlsIn", "success"),
        ("ReturnUrlsIn", "decline"),
        ("ReturnUrlsIn", "cancel"),
        ("ReturnUrlsIn", "pending"),
        ("MerchantPatch", "default_webhook_url"),
    ] {
        set(schema, property, json!({"pattern": URL_PATTERN, "maxLength": MAX_URL_BYTES}));
    }
    set("CustomerIn", "email", json!({"pattern": EMAIL, "maxLength": 254}));
    for schema in ["CaptureIn", "RefundIn"] {
        set(schema, "amount", json!({"maximum": gatepost_core::money::MAX_AMOUNT}));
    }
    set("CustomerIn", "name", json!({"maxLength": 254}));
    set("PaymentIn", "capture", json!({"enum": ["automatic", "manual", null]}));
    set("PaymentIn", "return_method", json!({"enum": ["GET", "POST", null]}));
    set(
        "PaymentIn",
        "metadata",
        json!({"maxProperties": 20, "propertyNames": {"minLength": 1, "maxLength": 40, "pattern": ONE_LINE},
            "additionalProperties": {"type": "string", "maxLength": 500, "pattern": MULTI_LINE}}),
    );
    set("MerchantPatch", "webhook_ack_mode", json!({"enum": ["status", "echo", null]}));
    set("MerchantPatch", "allowed_return_hosts", json!({"items": {"type": "string", "pattern": HOST}}));
    // What the server answers is a URL as WHATWG parsers write it, which RFC 3986's `uri`
    // format does not always admit (`|` in a path, for one).
    for (schema, property) in [
        ("Payment", "return_url"),
        ("Payment", "webhook_url"),
        ("ReturnUrls", "success"),
        ("ReturnUrls", "decline"),
        ("ReturnUrls", "cancel"),
        ("ReturnUrls", "pending"),
        ("MerchantOut", "default_webhook_url"),
        ("WebhookEndpoint", "url"),
    ] {
        if let Some(target) =
            schemas.pointer_mut(&format!("/{schema}/properties/{property}")).and_then(Value::as_object_mut)
        {
            target.remove("format");
        }
    }
    document["components"]["schemas"] = schemas;

    let Some(paths) = document["paths"].as_object_mut() else { return document };
    for (path, item) in paths.iter_mut() {
        let own_id = if path.starts_with("/v1/events") {
            "evt_"
        } else if path.starts_with("/v1/webhook_endpoints") {
            "we_"
        } else {
            "pay_"
        };
        let listed_id = if path.ends_with("/refunds") { "ref_" } else { own_id };
        for operation in item.as_object_mut().into_iter().flat_map(|item| item.values_mut()) {
            let parameters = operation.get_mut("parameters").and_then(Value::as_array_mut);
            for parameter in parameters.into_iter().flatten() {
                let rule = match (parameter["in"].as_str(), parameter["name"].as_str()) {
                    (Some("path"), Some("id")) => json!({"pattern": id_pattern(own_id)}),
                    (Some("query"), Some("starting_after")) => json!({"pattern": id_pattern(listed_id)}),
                    (Some("query"), Some("payment_id")) => json!({"pattern": id_pattern("pay_")}),
                    (Some("query"), Some("type")) => json!({"enum": event_types}),
                    (Some("query"), Some("reference")) => json!({"pattern": ONE_LINE, "minLength": 1}),
                    (Some("header"), Some("Idempotency-Key")) => {
                        json!({"pattern": IDEMPOTENCY_KEY, "minLength": 1, "maxLength": 255})
                    }
                    _ => continue,
                };
                if let (Some(schema), Some(rule)) = (parameter["schema"].as_object_mut(), rule.as_object()) {
                    schema.extend(rule.clone());
                }
            }
        }
    }
    document
}

/// `GET /openapi.json`, rendered once when the router is built.
pub(crate) fn router<S: Clone + Send + Sync + 'static>(connectors: &[&str]) -> Router<S> {
    let document = Bytes::from(document(connectors));
    Router::new().route(
        "/openapi.json",
        get(move || {
            let document = document.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], document).into_response() }
        }),
    )
}
