//! `GET /openapi.json`: the OpenAPI 3.1 document, generated from the handlers' and wire
//! types' annotations so that it cannot drift from the code (SPEC §2).

use crate::api::events::{DeliveryOut, DeliveryState, EventOut};
use crate::api::merchant::{MerchantOut, MerchantPatch, RotatedSecret};
use crate::api::operations::{CaptureIn, RefundIn};
use crate::api::payment_in::{CustomerIn, PaymentIn, ReturnUrlsIn};
use crate::api::{events, merchant, operations, payments};
use crate::error::{FieldError, Problem};
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use gatepost_core::payment::{Attempt, CardSummary, Customer, Payment, Refund, RefundStatus, ReturnUrls, ThreeDs};
use gatepost_core::status::{EventType, PaymentStatus};
use std::sync::LazyLock;
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
    ),
    components(schemas(
        PaymentIn, CustomerIn, ReturnUrlsIn, CaptureIn, RefundIn, Payment, Attempt, Refund, RefundStatus, CardSummary, ThreeDs,
        Customer, ReturnUrls, PaymentStatus, EventType, Problem, FieldError, EventOut, DeliveryState,
        DeliveryOut, MerchantOut, MerchantPatch, RotatedSecret
    )),
    modifiers(&BearerKey),
    tags(
        (name = "payments", description = "Create, read, list, cancel, capture and refund payments"),
        (name = "events", description = "Webhook events and their delivery attempts"),
        (name = "merchant", description = "The merchant's settings and webhook secret"),
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

/// Rendered once: the document only changes with the binary.
static DOCUMENT: LazyLock<String> =
    LazyLock::new(|| ApiDoc::openapi().to_pretty_json().expect("the OpenAPI document serializes"));

pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(
        "/openapi.json",
        get(|| async { ([(header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str()).into_response() }),
    )
}
