//! The webhook endpoints API (docs/reference/webhooks.md#endpoints): up to 16 endpoints a
//! merchant, each with its URL, event filter, secret and acknowledgement mode; a test
//! event, secret rotation, and `recover` of what an endpoint missed.

use super::events::EventOut;
use super::lists::{List, json_response};
use crate::error::{FieldError, NotReplayable};
use crate::extract::{AppJson, AppPath};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use gatepost_core::endpoints::{
    DisabledReason, EnabledEvents, EndpointStatus, FilterError, MAX_ENDPOINTS_PER_MERCHANT, WebhookEndpoint,
};
use gatepost_core::ids::WebhookEndpointId;
use gatepost_core::names::Named as _;
use gatepost_core::payment::{AckMode, Merchant};
use gatepost_core::signing::WebhookSecret;
use gatepost_core::time::Timestamp;
use gatepost_core::urls::{Mode, WebhookUrl};
use gatepost_store::{EndpointRefusal, Page};
use serde::{Deserialize, Serialize};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/webhook_endpoints", post(create_endpoint).get(list_endpoints))
        .route("/webhook_endpoints/{id}", get(retrieve_endpoint).patch(update_endpoint).delete(delete_endpoint))
        .route("/webhook_endpoints/{id}/rotate-secret", post(rotate_endpoint_secret))
        .route("/webhook_endpoints/{id}/test", post(test_endpoint))
        .route("/webhook_endpoints/{id}/recover", post(recover_endpoint))
}

/// As a payment's description.
const MAX_DESCRIPTION_CHARS: usize = 500;

/// `POST /v1/webhook_endpoints`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndpointIn {
    /// Where the endpoint's webhooks are sent (docs/reference/urls.md#webhook-urls).
    #[schema(format = "uri", example = "https://shop.example/webhooks/refunds")]
    url: String,
    /// Event types, or `*` for every payment event; `["*"]` when left out.
    #[schema(example = json!(["payment.refunded", "webhook_endpoint.disabled"]))]
    enabled_events: Option<Vec<String>>,
    description: Option<String>,
    /// `status` when left out.
    #[schema(value_type = Option<AckMode>)]
    ack_mode: Option<String>,
}

/// `PATCH /v1/webhook_endpoints/{id}`: fields left out stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EndpointPatch {
    #[schema(format = "uri")]
    url: Option<String>,
    enabled_events: Option<Vec<String>>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    #[schema(value_type = Option<AckMode>)]
    ack_mode: Option<String>,
    /// `disabled` stops every delivery to it; `enabled` takes events again (what it missed
    /// meanwhile comes back with `recover`).
    #[schema(value_type = Option<EndpointStatus>)]
    status: Option<String>,
}

/// A new endpoint, with its secret: the only answer that ever shows it.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CreatedEndpoint {
    #[serde(flatten)]
    endpoint: WebhookEndpoint,
    /// Verifies this endpoint's webhooks; shown once.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    secret: String,
}

/// `POST /v1/webhook_endpoints/{id}/rotate-secret`: the new secret, shown once.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct RotatedEndpointSecret {
    secret: String,
    /// Until then webhooks carry a second signature made with the previous secret.
    #[schema(format = DateTime)]
    previous_secret_expires_at: String,
}

/// `POST /v1/webhook_endpoints/{id}/recover`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecoverIn {
    /// RFC 3339; every event from then on that was not delivered to the endpoint is sent
    /// again, oldest first.
    #[schema(format = DateTime, example = "2026-11-30T08:00:00Z")]
    since: String,
}

/// What `recover` sent again.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Recovery {
    /// Always `webhook_endpoint_recovery`.
    object: &'static str,
    endpoint_id: String,
    #[schema(format = DateTime)]
    since: String,
    /// How many events are on their way again.
    events: u64,
}

/// The URL rules of docs/reference/urls.md#webhook-urls, and in live mode no address that
/// is not public: such an endpoint could never be delivered to.
pub(crate) fn endpoint_url(state: &AppState, raw: &str, errors: &mut Vec<FieldError>) -> Option<WebhookUrl> {
    let settings = state.settings();
    match WebhookUrl::parse(raw, settings.mode, settings.forbid_explicit_port) {
        Ok(url) if settings.mode == Mode::Live && gatepost_webhooks::guard::names_private_host(url.as_str()) => {
            errors.push(FieldError::new("url", "private_address", "must not name a private or local address"));
            None
        }
        Ok(url) => Some(url),
        Err(error) => {
            errors.push(FieldError::new("url", error.code(), error.to_string()));
            None
        }
    }
}

pub(crate) fn enabled_events(names: &[String], errors: &mut Vec<FieldError>) -> Option<EnabledEvents> {
    EnabledEvents::parse(names)
        .map_err(|error| {
            let code = match error {
                FilterError::Empty => "required",
                FilterError::Unknown(_) => "unknown_event_type",
            };
            errors.push(FieldError::new("enabled_events", code, error.to_string()));
        })
        .ok()
}

pub(crate) fn description(raw: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let text = raw?;
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.push(FieldError::new(
            "description",
            "too_long",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    } else if !gatepost_core::text::is_clean(&text, false) {
        errors.push(FieldError::new("description", "invalid_value", "must not contain control characters"));
    }
    Some(text)
}

fn parsed<T>(param: &str, raw: Option<&str>, parse: fn(&str) -> Option<T>, errors: &mut Vec<FieldError>) -> Option<T> {
    let raw = raw?;
    let value = parse(raw);
    if value.is_none() {
        errors.push(FieldError::new(param, "invalid_value", format!("{raw:?} is not one of the allowed values")));
    }
    value
}

fn endpoint_id(raw: &str) -> Result<WebhookEndpointId, ApiError> {
    WebhookEndpointId::parse(raw).ok_or_else(|| ApiError::not_found("webhook endpoint"))
}

async fn find(state: &AppState, merchant: &Merchant, id: &str) -> Result<WebhookEndpoint, ApiError> {
    let id = endpoint_id(id)?;
    state.store().webhook_endpoint(&merchant.id, &id).await?.ok_or_else(|| ApiError::not_found("webhook endpoint"))
}

fn too_many() -> ApiError {
    ApiError::validation(vec![FieldError::new(
        "url",
        "too_many_endpoints",
        format!("A merchant has at most {MAX_ENDPOINTS_PER_MERCHANT} webhook endpoints; remove one first."),
    )])
}

/// Registers an endpoint; the answer shows its secret, once.
#[utoipa::path(
    post, path = "/v1/webhook_endpoints", tag = "webhook endpoints",
    params(super::IdempotencyKeyHeader),
    request_body = EndpointIn,
    responses(
        (status = 201, description = "The endpoint, with its secret", body = CreatedEndpoint),
        (status = 422, description = "A field is invalid, or the merchant has 16 endpoints", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn create_endpoint(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppJson(body): AppJson<EndpointIn>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let url = endpoint_url(&state, &body.url, &mut errors);
    let events = match &body.enabled_events {
        Some(names) => enabled_events(names, &mut errors),
        None => Some(EnabledEvents::every_payment_event()),
    };
    let description = description(body.description, &mut errors);
    let ack_mode = parsed("ack_mode", body.ack_mode.as_deref(), AckMode::parse, &mut errors);
    let (Some(url), Some(enabled_events), true) = (url, events, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let endpoint = WebhookEndpoint {
        id: WebhookEndpointId::generate(),
        object: "webhook_endpoint",
        merchant_id: merchant.id.clone(),
        url,
        enabled_events,
        description,
        ack_mode: ack_mode.unwrap_or(AckMode::Status),
        status: EndpointStatus::Enabled,
        disabled_reason: None,
        created_at: state.clock().now(),
        is_default: false,
    };
    let secret = WebhookSecret::generate();
    if let Err(EndpointRefusal::TooMany) = state.store().create_webhook_endpoint(&endpoint, &secret).await? {
        return Err(too_many());
    }
    // A retry under the same Idempotency-Key replays this answer, secret included, rather
    // than making a second endpoint whose secret nobody saw.
    let created = CreatedEndpoint { endpoint, secret: secret.expose() };
    Ok(json_response(StatusCode::CREATED, &created))
}

/// Every endpoint of the merchant, oldest first (16 at most, so one page).
#[utoipa::path(
    get, path = "/v1/webhook_endpoints", tag = "webhook endpoints",
    responses((status = 200, description = "The endpoints", body = List<WebhookEndpoint>)),
    security(("api_key" = []))
)]
pub(crate) async fn list_endpoints(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
) -> Result<Response, ApiError> {
    let endpoints = state.store().webhook_endpoints(&merchant.id).await?;
    Ok(json_response(StatusCode::OK, &List::from(Page { data: endpoints, has_more: false })))
}

/// One endpoint.
#[utoipa::path(
    get, path = "/v1/webhook_endpoints/{id}", tag = "webhook endpoints",
    params(("id" = String, Path, description = "The `we_` id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpoint),
        (status = 404, description = "No such webhook endpoint for this merchant", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn retrieve_endpoint(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    Ok(json_response(StatusCode::OK, &find(&state, &merchant, &id).await?))
}

/// Changes an endpoint; every field is optional.
#[utoipa::path(
    patch, path = "/v1/webhook_endpoints/{id}", tag = "webhook endpoints",
    params(("id" = String, Path, description = "The `we_` id")),
    request_body = EndpointPatch,
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpoint),
        (status = 404, description = "No such webhook endpoint for this merchant", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is invalid", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn update_endpoint(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
    AppJson(patch): AppJson<EndpointPatch>,
) -> Result<Response, ApiError> {
    let mut endpoint = find(&state, &merchant, &id).await?;
    let mut errors = Vec::new();
    if let Some(raw) = &patch.url
        && let Some(url) = endpoint_url(&state, raw, &mut errors)
    {
        endpoint.url = url;
    }
    if let Some(names) = &patch.enabled_events
        && let Some(events) = enabled_events(names, &mut errors)
    {
        endpoint.enabled_events = events;
    }
    if let Some(text) = patch.description {
        endpoint.description = description(text, &mut errors);
    }
    if let Some(mode) = parsed("ack_mode", patch.ack_mode.as_deref(), AckMode::parse, &mut errors) {
        endpoint.ack_mode = mode;
    }
    if let Some(status) = parsed("status", patch.status.as_deref(), EndpointStatus::parse, &mut errors)
        && status != endpoint.status
    {
        endpoint.status = status;
        endpoint.disabled_reason = (status == EndpointStatus::Disabled).then_some(DisabledReason::Manual);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    state.store().update_webhook_endpoint(&endpoint).await?;
    if endpoint.is_default {
        // The default endpoint's URL is the merchant's `default_webhook_url`.
        state.inner.merchants.forget(&merchant.id);
    }
    Ok(json_response(StatusCode::OK, &endpoint))
}

/// Removes an endpoint; nothing more is sent to it.
#[utoipa::path(
    delete, path = "/v1/webhook_endpoints/{id}", tag = "webhook endpoints",
    params(("id" = String, Path, description = "The `we_` id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such webhook endpoint for this merchant", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn delete_endpoint(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    let id = endpoint_id(&id)?;
    if !state.store().delete_webhook_endpoint(&merchant.id, &id).await? {
        return Err(ApiError::not_found("webhook endpoint"));
    }
    state.inner.merchants.forget(&merchant.id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Replaces the endpoint's secret; the old one keeps signing alongside for 24 hours. The
/// default endpoint signs with the merchant's secret, which is the one rotated.
#[utoipa::path(
    post, path = "/v1/webhook_endpoints/{id}/rotate-secret", tag = "webhook endpoints",
    params(("id" = String, Path, description = "The `we_` id"), super::IdempotencyKeyHeader),
    responses(
        (status = 200, description = "The new secret", body = RotatedEndpointSecret),
        (status = 404, description = "No such webhook endpoint for this merchant", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn rotate_endpoint_secret(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    let id = endpoint_id(&id)?;
    let secret = WebhookSecret::generate();
    let until = state.clock().now().plus_seconds(gatepost_core::signing::PREVIOUS_SECRET_SECONDS);
    if !state.store().rotate_endpoint_secret(&merchant.id, &id, &secret, until).await? {
        return Err(ApiError::not_found("webhook endpoint"));
    }
    let rotated = RotatedEndpointSecret { secret: secret.expose(), previous_secret_expires_at: until.to_rfc3339() };
    let mut response = json_response(StatusCode::OK, &rotated);
    response.extensions_mut().insert(NotReplayable);
    Ok(response)
}

/// Sends one `webhook_endpoint.test` event to this endpoint only, whatever its filter.
#[utoipa::path(
    post, path = "/v1/webhook_endpoints/{id}/test", tag = "webhook endpoints",
    params(("id" = String, Path, description = "The `we_` id"), super::IdempotencyKeyHeader),
    responses(
        (status = 202, description = "The test event, on its way", body = EventOut),
        (status = 404, description = "No such webhook endpoint for this merchant", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn test_endpoint(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
) -> Result<Response, ApiError> {
    let id = endpoint_id(&id)?;
    let Some(event) = state.store().send_test_event(&merchant.id, &id, state.clock().now()).await? else {
        return Err(ApiError::not_found("webhook endpoint"));
    };
    let event = state.store().event(&merchant.id, &event).await?.ok_or_else(|| ApiError::not_found("event"))?;
    Ok(json_response(StatusCode::ACCEPTED, &EventOut::from(event)))
}

/// Sends again every event since `since` that was not delivered to the endpoint: those
/// that failed or are still retrying, and those it missed while disabled.
#[utoipa::path(
    post, path = "/v1/webhook_endpoints/{id}/recover", tag = "webhook endpoints",
    params(("id" = String, Path, description = "The `we_` id"), super::IdempotencyKeyHeader),
    request_body = RecoverIn,
    responses(
        (status = 202, description = "The events are on their way, oldest first", body = Recovery),
        (status = 404, description = "No such webhook endpoint for this merchant", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The endpoint is disabled: enable it first", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`since` is not an RFC 3339 time, or is in the future", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = []))
)]
pub(crate) async fn recover_endpoint(
    State(state): State<AppState>,
    Extension(merchant): Extension<Merchant>,
    AppPath(id): AppPath<String>,
    AppJson(body): AppJson<RecoverIn>,
) -> Result<Response, ApiError> {
    let now = state.clock().now();
    let since = match Timestamp::parse_rfc3339(&body.since) {
        Some(since) if since <= now => since,
        Some(_) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "since",
                "invalid_value",
                "must not be in the future",
            )]));
        }
        None => {
            return Err(ApiError::validation(vec![FieldError::new(
                "since",
                "invalid_value",
                "must be an RFC 3339 time such as 2026-11-30T08:00:00Z",
            )]));
        }
    };
    let endpoint = find(&state, &merchant, &id).await?;
    if endpoint.status == EndpointStatus::Disabled {
        return Err(ApiError::invalid_state("The endpoint is disabled: enable it, then recover what it missed."));
    }
    let events = state.store().recover(&merchant.id, &endpoint.id, since, now).await?;
    let recovery = Recovery {
        object: "webhook_endpoint_recovery",
        endpoint_id: endpoint.id.to_string(),
        since: since.to_rfc3339(),
        events,
    };
    Ok(json_response(StatusCode::ACCEPTED, &recovery))
}
