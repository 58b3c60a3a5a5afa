//! `/dashboard/webhooks`: the merchant's webhook endpoints with their health, and what an
//! admin does to them: create, edit, enable or disable, rotate the secret (shown once), send
//! a test event, recover what was missed, remove (docs/reference/dashboard.md#webhooks).
//! Each change goes through the API's own rules (`api::endpoints`).

use super::once::{Done, Refused, confirmed, once};
use super::pages::{Frame, Section, html, not_found, when};
use super::session::{AdminForm, Viewer};
use crate::AppState;
use crate::api::endpoints::{description, enabled_events, endpoint_url};
use crate::error::FieldError;
use crate::hpp::CspNonce;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatepost_core::dashboard::AuditAction;
use gatepost_core::endpoints::{DisabledReason, EndpointEventType, EndpointStatus, WebhookEndpoint};
use gatepost_core::ids::WebhookEndpointId;
use gatepost_core::names::Named as _;
use gatepost_core::payment::AckMode;
use gatepost_core::signing::{PREVIOUS_SECRET_SECONDS, WebhookSecret};
use gatepost_core::status::EventType;
use gatepost_core::time::Timestamp;
use gatepost_store::EndpointRefusal;

/// Health is judged on the last day.
const HEALTH_WINDOW_SECONDS: i64 = 24 * 3600;

struct EndpointRow {
    id: String,
    url: String,
    description: String,
    events: String,
    enabled: bool,
    disabled_reason: String,
    is_default: bool,
    /// `97.5 % of 40`, or `no attempts`.
    success: String,
    last_error: String,
}

/// Every event type an endpoint can subscribe to: `*` first, then each payment event, then
/// the events about endpoints.
fn choices() -> Vec<&'static str> {
    std::iter::once("*")
        .chain(EventType::ALL.iter().map(|t| t.as_str()))
        .chain(EndpointEventType::ALL.iter().map(|t| t.as_str()))
        .collect()
}

#[derive(Template)]
#[template(path = "dashboard/webhooks.html")]
struct ListPage {
    frame: Frame,
    endpoints: Vec<EndpointRow>,
    may_act: bool,
    choices: Vec<&'static str>,
    ack_modes: Vec<&'static str>,
    idempotency_key: String,
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/webhook.html")]
struct EndpointPage {
    frame: Frame,
    e: EndpointRow,
    ack_mode: &'static str,
    subscribed: Vec<&'static str>,
    may_act: bool,
    choices: Vec<&'static str>,
    ack_modes: Vec<&'static str>,
    idempotency_key: String,
    /// A secret just made: shown this once.
    secret: Option<String>,
    notice: Option<String>,
    /// Today's date, the default of the recover form.
    today: String,
}

async fn row(state: &AppState, endpoint: &WebhookEndpoint) -> Result<EndpointRow, gatepost_store::StoreError> {
    let since = state.clock().now().plus_seconds(-HEALTH_WINDOW_SECONDS);
    let health = state.store().endpoint_health(&endpoint.id, since).await?;
    let success = if health.attempts == 0 {
        "no attempts in 24 h".to_owned()
    } else {
        #[allow(clippy::cast_precision_loss)] // at most HEALTH_ATTEMPTS
        let share = health.succeeded as f64 * 100.0 / health.attempts as f64;
        format!("{share:.1} % of {} attempts", health.attempts)
    };
    let last_error = health
        .last_failure
        .map(|(at, code, error)| {
            let what = [code.map(|c| c.to_string()), error].into_iter().flatten().collect::<Vec<_>>().join(" · ");
            format!("{what} at {}", when(at))
        })
        .unwrap_or_default();
    Ok(EndpointRow {
        id: endpoint.id.to_string(),
        url: endpoint.url.as_str().to_owned(),
        description: endpoint.description.clone().unwrap_or_default(),
        events: endpoint.enabled_events.names().join(", "),
        enabled: endpoint.status == EndpointStatus::Enabled,
        disabled_reason: endpoint.disabled_reason.map(|r| r.as_str()).unwrap_or_default().to_owned(),
        is_default: endpoint.is_default,
        success,
        last_error,
    })
}

fn done_notice(raw: Option<&str>) -> Option<String> {
    let done = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).find(|(name, _)| name == "done")?.1;
    let text = match done.as_ref() {
        "created" => "Endpoint created.",
        "updated" => "Endpoint saved.",
        "removed" => "Endpoint removed.",
        "tested" => "Test event sent: it is in the events list.",
        "enabled" => "Endpoint enabled.",
        "disabled" => "Endpoint disabled: nothing is sent to it until it is enabled.",
        "recovered" => "Recovery started: the missed events are on their way, oldest first.",
        _ => return None,
    };
    Some(text.to_owned())
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(nonce): Extension<CspNonce>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Response {
    let merchant = viewer.user.merchant_id.clone();
    let may_act = viewer.may_act();
    let frame = Frame::new(&state, &nonce, Some(viewer), Section::Webhooks);
    let endpoints = match state.store().webhook_endpoints(&merchant).await {
        Ok(endpoints) => endpoints,
        Err(error) => return super::pages::failure(frame, &error),
    };
    let mut rows = Vec::with_capacity(endpoints.len());
    for endpoint in &endpoints {
        match row(&state, endpoint).await {
            Ok(row) => rows.push(row),
            Err(error) => return super::pages::failure(frame, &error),
        }
    }
    let page = ListPage {
        frame,
        endpoints: rows,
        may_act,
        choices: choices(),
        ack_modes: AckMode::ALL.iter().map(|m| m.as_str()).collect(),
        idempotency_key: gatepost_core::ids::random_token(16),
        notice: done_notice(raw.as_deref()),
    };
    html(StatusCode::OK, &page)
}

async fn endpoint_page(
    state: &AppState,
    nonce: &CspNonce,
    viewer: Viewer,
    id: &str,
    secret: Option<String>,
    notice: Option<String>,
) -> Response {
    let merchant = viewer.user.merchant_id.clone();
    let may_act = viewer.may_act();
    let frame = Frame::new(state, nonce, Some(viewer), Section::Webhooks);
    let Some(id) = WebhookEndpointId::parse(id) else { return not_found(frame, "webhook endpoint") };
    let endpoint = match state.store().webhook_endpoint(&merchant, &id).await {
        Ok(Some(endpoint)) => endpoint,
        Ok(None) => return not_found(frame, "webhook endpoint"),
        Err(error) => return super::pages::failure(frame, &error),
    };
    let e = match row(state, &endpoint).await {
        Ok(row) => row,
        Err(error) => return super::pages::failure(frame, &error),
    };
    let page = EndpointPage {
        frame,
        e,
        ack_mode: endpoint.ack_mode.as_str(),
        subscribed: endpoint.enabled_events.names(),
        may_act,
        choices: choices(),
        ack_modes: AckMode::ALL.iter().map(|m| m.as_str()).collect(),
        idempotency_key: gatepost_core::ids::random_token(16),
        secret,
        notice,
        today: state.clock().now().to_rfc3339()[..10].to_owned(),
    };
    html(StatusCode::OK, &page)
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(nonce): Extension<CspNonce>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    endpoint_page(&state, &nonce, viewer, &id, None, done_notice(raw.as_deref())).await
}

/// The API's field errors as one sentence for a page.
fn refused(errors: &[FieldError]) -> Refused {
    let text = errors.iter().map(|e| format!("{}: {}", e.param, e.detail)).collect::<Vec<_>>().join("; ");
    (StatusCode::UNPROCESSABLE_ENTITY, format!("Not saved. {text}."))
}

fn failed(error: &dyn std::fmt::Display) -> Refused {
    tracing::error!(%error, "webhook endpoint change failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong; nothing changed. Try again.".to_owned())
}

fn ack_mode(raw: &str, errors: &mut Vec<FieldError>) -> AckMode {
    match raw {
        "" => AckMode::Status,
        raw => AckMode::parse(raw).unwrap_or_else(|| {
            errors.push(FieldError::new("ack_mode", "invalid_value", "is not one of the allowed values"));
            AckMode::Status
        }),
    }
}

/// `POST /dashboard/webhooks`: a new endpoint; its secret is shown on the answer, once.
pub(crate) async fn create(State(state): State<AppState>, AdminForm(form): AdminForm) -> Response {
    let work = || async {
        let mut errors = Vec::new();
        let url = endpoint_url(&state, form.fields.get("url").trim(), &mut errors);
        let events = enabled_events(form.fields.all("enabled_events"), &mut errors);
        let text = form.fields.get("description").trim();
        let description = description((!text.is_empty()).then(|| text.to_owned()), &mut errors);
        let ack_mode = ack_mode(form.fields.get("ack_mode"), &mut errors);
        let (Some(url), Some(enabled_events), true) = (url, events, errors.is_empty()) else {
            return Err(refused(&errors));
        };
        let endpoint = WebhookEndpoint {
            id: WebhookEndpointId::generate(),
            object: "webhook_endpoint",
            merchant_id: form.viewer.user.merchant_id.clone(),
            url,
            enabled_events,
            description,
            ack_mode,
            status: EndpointStatus::Enabled,
            disabled_reason: None,
            created_at: state.clock().now(),
            is_default: false,
        };
        let secret = WebhookSecret::generate();
        match state.store().create_webhook_endpoint(&endpoint, &secret).await {
            Ok(Ok(())) => {}
            Ok(Err(EndpointRefusal::TooMany)) => {
                let text = "This merchant has 16 webhook endpoints already: remove one first.";
                return Err((StatusCode::UNPROCESSABLE_ENTITY, text.to_owned()));
            }
            Err(error) => return Err(failed(&error)),
        }
        let notice = Some("Endpoint created.".to_owned());
        let shown = endpoint_page(
            &state,
            &form.nonce,
            form.viewer.clone(),
            endpoint.id.as_str(),
            Some(secret.expose()),
            notice,
        )
        .await;
        Ok(Done {
            action: AuditAction::EndpointCreated,
            object_id: Some(endpoint.id.to_string()),
            detail: Some(endpoint.url.as_str().to_owned()),
            then: format!("/dashboard/webhooks/{}?done=created", endpoint.id),
            shown: Some(shown),
        })
    };
    once(&state, &form, Section::Webhooks, &["url", "enabled_events", "description", "ack_mode"], work).await
}

/// The refusal of a form about an endpoint the merchant does not have (another merchant's
/// included): `404`, as on the API.
fn missing() -> Refused {
    (StatusCode::NOT_FOUND, "There is no such webhook endpoint in this dashboard.".to_owned())
}

/// The endpoint a form acts on, if the merchant has it.
async fn find(state: &AppState, form: &super::session::PostedForm, id: &str) -> Result<WebhookEndpoint, Refused> {
    let id = WebhookEndpointId::parse(id).ok_or_else(missing)?;
    match state.store().webhook_endpoint(&form.viewer.user.merchant_id, &id).await {
        Ok(Some(endpoint)) => Ok(endpoint),
        Ok(None) => Err(missing()),
        Err(error) => Err(failed(&error)),
    }
}

fn back(endpoint: &WebhookEndpoint, done: &str, action: AuditAction, detail: Option<String>) -> Done {
    Done {
        action,
        object_id: Some(endpoint.id.to_string()),
        detail,
        then: format!("/dashboard/webhooks/{}?done={done}", endpoint.id),
        shown: None,
    }
}

/// `POST /dashboard/webhooks/{id}`: saves the URL, filter, description and acknowledgement.
pub(crate) async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AdminForm(form): AdminForm,
) -> Response {
    let work = || async {
        let mut endpoint = find(&state, &form, &id).await?;
        let mut errors = Vec::new();
        if let Some(url) = endpoint_url(&state, form.fields.get("url").trim(), &mut errors) {
            endpoint.url = url;
        }
        if !endpoint.is_default
            && let Some(events) = enabled_events(form.fields.all("enabled_events"), &mut errors)
        {
            endpoint.enabled_events = events;
        }
        let text = form.fields.get("description").trim();
        endpoint.description = description((!text.is_empty()).then(|| text.to_owned()), &mut errors);
        endpoint.ack_mode = ack_mode(form.fields.get("ack_mode"), &mut errors);
        if !errors.is_empty() {
            return Err(refused(&errors));
        }
        state.store().update_webhook_endpoint(&endpoint).await.map_err(|e| failed(&e))?;
        if endpoint.is_default {
            state.forget_merchant(&endpoint.merchant_id);
        }
        Ok(back(&endpoint, "updated", AuditAction::EndpointUpdated, Some(endpoint.url.as_str().to_owned())))
    };
    once(&state, &form, Section::Webhooks, &["url", "enabled_events", "description", "ack_mode"], work).await
}

/// `POST /dashboard/webhooks/{id}/status`: `status=enabled` or `disabled`.
pub(crate) async fn set_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AdminForm(form): AdminForm,
) -> Response {
    let work = || async {
        let mut endpoint = find(&state, &form, &id).await?;
        let status = EndpointStatus::parse(form.fields.get("status"))
            .ok_or((StatusCode::UNPROCESSABLE_ENTITY, "status: is not one of the allowed values.".to_owned()))?;
        if status != endpoint.status {
            endpoint.status = status;
            endpoint.disabled_reason = (status == EndpointStatus::Disabled).then_some(DisabledReason::Manual);
            state.store().update_webhook_endpoint(&endpoint).await.map_err(|e| failed(&e))?;
        }
        Ok(back(&endpoint, status.as_str(), AuditAction::EndpointUpdated, Some(format!("status {}", status.as_str()))))
    };
    once(&state, &form, Section::Webhooks, &["status"], work).await
}

/// `POST /dashboard/webhooks/{id}/rotate`: a new secret, shown on the answer once; the old
/// one keeps signing beside it for 24 hours.
pub(crate) async fn rotate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AdminForm(form): AdminForm,
) -> Response {
    let work = || async {
        confirmed(&form)?;
        let endpoint = find(&state, &form, &id).await?;
        let secret = WebhookSecret::generate();
        let until = state.clock().now().plus_seconds(PREVIOUS_SECRET_SECONDS);
        match state.store().rotate_endpoint_secret(&endpoint.merchant_id, &endpoint.id, &secret, until).await {
            Ok(true) => {}
            Ok(false) => {
                return Err(missing());
            }
            Err(error) => return Err(failed(&error)),
        }
        let notice = Some(format!("Secret rotated. The old one keeps signing beside it until {}.", when(until)));
        let shown = endpoint_page(
            &state,
            &form.nonce,
            form.viewer.clone(),
            endpoint.id.as_str(),
            Some(secret.expose()),
            notice,
        )
        .await;
        Ok(Done { shown: Some(shown), ..back(&endpoint, "updated", AuditAction::EndpointSecretRotated, None) })
    };
    once(&state, &form, Section::Webhooks, &["confirm"], work).await
}

/// `POST /dashboard/webhooks/{id}/test`: one `webhook_endpoint.test` event to it alone.
pub(crate) async fn test(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AdminForm(form): AdminForm,
) -> Response {
    let work = || async {
        let endpoint = find(&state, &form, &id).await?;
        match state.store().send_test_event(&endpoint.merchant_id, &endpoint.id, state.clock().now()).await {
            Ok(Some(event)) => Ok(back(&endpoint, "tested", AuditAction::EndpointTested, Some(event.to_string()))),
            Ok(None) => Err(missing()),
            Err(error) => Err(failed(&error)),
        }
    };
    once(&state, &form, Section::Webhooks, &[], work).await
}

/// `POST /dashboard/webhooks/{id}/recover` with `since` (a day, `YYYY-MM-DD`, UTC).
pub(crate) async fn recover(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AdminForm(form): AdminForm,
) -> Response {
    let work = || async {
        let endpoint = find(&state, &form, &id).await?;
        let now = state.clock().now();
        let text = form.fields.get("since");
        let since = (text.len() == 10 && text.is_ascii())
            .then(|| Timestamp::parse_rfc3339(&format!("{text}T00:00:00Z")))
            .flatten()
            .filter(|since| *since <= now)
            .ok_or((
                StatusCode::UNPROCESSABLE_ENTITY,
                "since: a day written YYYY-MM-DD, not in the future.".to_owned(),
            ))?;
        if endpoint.status == EndpointStatus::Disabled {
            let text = "The endpoint is disabled: enable it, then recover what it missed.";
            return Err((StatusCode::CONFLICT, text.to_owned()));
        }
        let events =
            state.store().recover(&endpoint.merchant_id, &endpoint.id, since, now).await.map_err(|e| failed(&e))?;
        let detail = Some(format!("since {} ({events} events)", since.to_rfc3339()));
        Ok(back(&endpoint, "recovered", AuditAction::EndpointRecovered, detail))
    };
    once(&state, &form, Section::Webhooks, &["since"], work).await
}

/// `POST /dashboard/webhooks/{id}/remove`: nothing more is sent to it.
pub(crate) async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AdminForm(form): AdminForm,
) -> Response {
    let work = || async {
        confirmed(&form)?;
        let endpoint = find(&state, &form, &id).await?;
        match state.store().delete_webhook_endpoint(&endpoint.merchant_id, &endpoint.id).await {
            Ok(true) => {}
            Ok(false) => {
                return Err(missing());
            }
            Err(error) => return Err(failed(&error)),
        }
        state.forget_merchant(&endpoint.merchant_id);
        Ok(Done {
            then: "/dashboard/webhooks?done=removed".to_owned(),
            ..back(&endpoint, "removed", AuditAction::EndpointDeleted, Some(endpoint.url.as_str().to_owned()))
        })
    };
    once(&state, &form, Section::Webhooks, &["confirm"], work).await
}
