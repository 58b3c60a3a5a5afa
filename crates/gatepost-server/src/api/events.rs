//! The events API (docs/reference/webhooks.md#events-api): what was sent, when, and how
//! each attempt went.

use super::lists::{List, QueryParams, json_response};
use crate::error::FieldError;
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use gatepost_core::delivery::{DeliveryError, DeliveryStatus, Trigger};
use gatepost_core::endpoints::EventKind;
use gatepost_core::ids::{EventId, PaymentId, WebhookEndpointId};
use gatepost_core::names::Named as _;
use gatepost_core::payment::Merchant;
use gatepost_store::{Delivery, EventDestination, EventQuery, Page, ResendTo, StoredEvent};
use serde::{Deserialize, Serialize};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/events", get(list_events))
        .route("/events/{id}", get(retrieve_event))
        .route("/events/{id}/deliveries", get(list_deliveries))
        .route("/events/{id}/resend", post(resend_event))
}

/// An event and where its delivery stands.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct EventOut {
    id: String,
    /// Always `event`.
    object: &'static str,
    /// A payment event's type, or `webhook_endpoint.disabled` / `webhook_endpoint.test`.
    #[serde(rename = "type")]
    #[schema(example = "payment.succeeded")]
    event_type: &'static str,
    /// None for an event about an endpoint.
    payment_id: Option<String>,
    /// Increases by one per event of the same payment; none for an event about an endpoint.
    sequence: Option<i64>,
    #[schema(format = DateTime)]
    created_at: String,
    /// The payment (or the endpoint) as it was when the event happened: the `data` every
    /// attempt sends.
    #[schema(value_type = Object)]
    data: serde_json::Value,
    delivery: DeliveryState,
    /// Each place the event goes, in order: the merchant's endpoints that take it, then
    /// the payment's own `webhook_url`.
    destinations: Vec<DestinationOut>,
}

/// Where the delivery of an event stands over all its destinations.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryState {
    /// PENDING until every destination ended; then FAILED if any failed; SKIPPED when the
    /// event has no destination it was sent to.
    status: DeliveryStatus,
    /// Attempts over every destination.
    attempts: u32,
    /// The payment's own URL when it is a destination, else the first destination's.
    url: Option<String>,
    #[schema(format = DateTime)]
    last_attempt_at: Option<String>,
    /// The soonest next attempt of any destination.
    #[schema(format = DateTime)]
    next_attempt_at: Option<String>,
}

/// One destination of an event.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DestinationOut {
    /// The endpoint; none for the payment's own `webhook_url`.
    endpoint_id: Option<String>,
    url: String,
    status: DeliveryStatus,
    attempts: u32,
    #[schema(format = DateTime)]
    last_attempt_at: Option<String>,
    #[schema(format = DateTime)]
    next_attempt_at: Option<String>,
}

impl From<&EventDestination> for DestinationOut {
    fn from(d: &EventDestination) -> Self {
        Self {
            endpoint_id: d.endpoint_id.as_ref().map(ToString::to_string),
            url: d.url.clone(),
            status: d.status,
            attempts: d.attempts,
            last_attempt_at: d.last_attempt_at.map(|t| t.to_rfc3339()),
            next_attempt_at: d.next_attempt_at.map(|t| t.to_rfc3339()),
        }
    }
}

impl DeliveryState {
    fn of(status: DeliveryStatus, destinations: &[EventDestination]) -> Self {
        let url = destinations.iter().find(|d| d.endpoint_id.is_none()).or(destinations.first()).map(|d| d.url.clone());
        Self {
            status,
            attempts: destinations.iter().map(|d| d.attempts).fold(0, u32::saturating_add),
            url,
            last_attempt_at: destinations.iter().filter_map(|d| d.last_attempt_at).max().map(|t| t.to_rfc3339()),
            next_attempt_at: destinations.iter().filter_map(|d| d.next_attempt_at).min().map(|t| t.to_rfc3339()),
        }
    }
}

impl From<StoredEvent> for EventOut {
    fn from(event: StoredEvent) -> Self {
        let body: serde_json::Value = serde_json::from_slice(&event.body).unwrap_or_default();
        Self {
            id: event.id.to_string(),
            object: "event",
            event_type: event.event_type.as_str(),
            payment_id: event.payment_id.as_ref().map(ToString::to_string),
            sequence: event.sequence,
            created_at: event.created_at.to_rfc3339(),
            data: body.get("data").cloned().unwrap_or_default(),
            delivery: DeliveryState::of(event.delivery_status, &event.destinations),
            destinations: event.destinations.iter().map(DestinationOut::from).collect(),
        }
    }
}

/// One delivery attempt (docs/reference/webhooks.md#what-an-attempt-records).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryOut {
    id: String,
    /// Always `delivery`.
    object: &'static str,
    event_id: String,
    /// The endpoint it went to; none for the payment's own `webhook_url`.
    endpoint_id: Option<String>,
    url: String,
    #[schema(format = DateTime)]
    attempted_at: String,
    duration_ms: i64,
    status_code: Option<u16>,
    /// Why the attempt did not deliver; none when it did.
    error: Option<DeliveryError>,
    /// The first 4 KiB of the receiver's answer.
    response_body: String,
    trigger: Trigger,
}

impl From<Delivery> for DeliveryOut {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id.to_string(),
            object: "delivery",
            event_id: d.event_id.to_string(),
            endpoint_id: d.endpoint_id.as_ref().map(ToString::to_string),
            url: d.url,
            attempted_at: d.attempted_at.to_rfc3339(),
            duration_ms: d.duration_ms,
            status_code: d.status_code,
            error: d.error,
            response_body: d.response_body,
            trigger: d.trigger,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct EventListParams {
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    starting_after: Option<String>,
    payment_id: Option<String>,
    /// A payment event's type, or `webhook_endpoint.disabled` / `webhook_endpoint.test`.
    #[serde(rename = "type")]
    event_type: Option<String>,
    #[param(value_type = Option<DeliveryStatus>)]
    delivery_status: Option<String>,
}

/// The merchant's events, newest first.
#[utoipa::path(
    get, path = "/v1/events", tag = "events",
    params(EventListParams),
    responses(
        (status = 200, description = "A page of events", body = List<EventOut>),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn list_events(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppQuery(params): AppQuery<EventListParams>,
) -> Result<Response, ApiError> {
    let mut query_params = QueryParams::default();
    let query = EventQuery {
        limit: query_params.limit(params.limit.as_deref()),
        starting_after: query_params.parse(
            "starting_after",
            params.starting_after.as_deref(),
            EventId::parse,
            "an event id",
        ),
        payment_id: query_params.parse("payment_id", params.payment_id.as_deref(), PaymentId::parse, "a payment id"),
        event_type: query_params.parse(
            "type",
            params.event_type.as_deref(),
            EventKind::parse,
            "an event type such as payment.succeeded",
        ),
        delivery_status: query_params.parse(
            "delivery_status",
            params.delivery_status.as_deref(),
            DeliveryStatus::parse,
            "PENDING, DELIVERED, FAILED or SKIPPED",
        ),
        endpoint_id: None,
    };
    query_params.finish()?;
    let page = state.store().list_events(&merchant.id, &query).await?;
    let page = Page { data: page.data.into_iter().map(EventOut::from).collect(), has_more: page.has_more };
    Ok(json_response(StatusCode::OK, &List::from(page)))
}

async fn find_event(state: &AppState, merchant: &Merchant, id: &str) -> Result<StoredEvent, ApiError> {
    let id = EventId::parse(id).ok_or_else(|| ApiError::not_found("event"))?;
    state.store().event(&merchant.id, &id).await?.ok_or_else(|| ApiError::not_found("event"))
}

/// An event with its delivery summary.
#[utoipa::path(
    get, path = "/v1/events/{id}", tag = "events",
    params(("id" = String, Path, description = "The `evt_` id")),
    responses(
        (status = 200, description = "The event", body = EventOut),
        (status = 404, description = "No such event for this merchant", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn retrieve_event(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    let event = find_event(&state, &merchant, &id).await?;
    Ok(json_response(StatusCode::OK, &EventOut::from(event)))
}

/// Every delivery attempt of an event, oldest first.
#[utoipa::path(
    get, path = "/v1/events/{id}/deliveries", tag = "events",
    params(("id" = String, Path, description = "The `evt_` id")),
    responses(
        (status = 200, description = "The attempts", body = List<DeliveryOut>),
        (status = 404, description = "No such event for this merchant", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn list_deliveries(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    let event = find_event(&state, &merchant, &id).await?;
    let deliveries = state.store().deliveries(&merchant.id, &event.id).await?;
    let page = Page { data: deliveries.into_iter().map(DeliveryOut::from).collect(), has_more: false };
    Ok(json_response(StatusCode::OK, &List::from(page)))
}

/// `POST /v1/events/{id}/resend`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResendIn {
    /// One endpoint's destination; every destination when left out.
    #[schema(example = "we_01JD2YB3C4D5E6F7G8H9J0K1M2")]
    endpoint_id: Option<String>,
}

/// One immediate extra attempt at each destination (or at one endpoint), even after it
/// `FAILED` (202).
#[utoipa::path(
    post, path = "/v1/events/{id}/resend", tag = "events",
    params(("id" = String, Path, description = "The `evt_` id"), super::IdempotencyKeyHeader),
    request_body(content = ResendIn, description = "Optional: an empty body resends to every destination"),
    responses(
        (status = 202, description = "The attempts are on their way", body = EventOut),
        (status = 404, description = "No such event for this merchant", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The event has no destination to send it to (or not that endpoint)", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`endpoint_id` is not an endpoint id", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn resend_event(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<ResendIn>,
) -> Result<Response, ApiError> {
    let to = match body.endpoint_id.as_deref() {
        None => ResendTo::Every,
        Some(raw) => ResendTo::Endpoint(WebhookEndpointId::parse(raw).ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "endpoint_id",
                "invalid_value",
                "Not a webhook endpoint id (we_…).",
            )])
        })?),
    };
    let event = find_event(&state, &merchant, &id).await?;
    let resent = state.store().request_resend(&merchant.id, &event.id, to, state.clock().now()).await?;
    if resent == 0 {
        return Err(ApiError::invalid_state(
            "The event has no destination to send it to: no webhook URL, that endpoint is not one of its \
             destinations, or the endpoint was disabled (use recover once it is enabled again).",
        ));
    }
    let event = find_event(&state, &merchant, &id).await?;
    Ok(json_response(StatusCode::ACCEPTED, &EventOut::from(event)))
}
