//! `/dashboard/events`: the merchant's webhook events with filters, and one event with its
//! exact body, its destinations and every attempt, and a resend for admins
//! (docs/reference/dashboard.md#events).

use super::once::{Done, once};
use super::pages::{Frame, Section, html, not_found, when};
use super::session::{AdminForm, Viewer};
use crate::AppState;
use crate::hpp::CspNonce;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatepost_core::dashboard::AuditAction;
use gatepost_core::delivery::DeliveryStatus;
use gatepost_core::endpoints::{EndpointEventType, EventKind};
use gatepost_core::ids::{EventId, WebhookEndpointId};
use gatepost_core::names::Named as _;
use gatepost_core::status::EventType;
use gatepost_store::{EventQuery, ResendTo, StoredEvent};

const PAGE_SIZE: u32 = 50;

/// The list's filters as the form sent them.
#[derive(Debug, Default)]
struct Filters {
    event_type: String,
    delivery_status: String,
    endpoint: String,
    starting_after: String,
}

impl Filters {
    fn parse(raw: Option<&str>) -> Self {
        let mut filters = Self::default();
        for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let value: String = value.trim().chars().take(100).collect();
            match name.as_ref() {
                "type" => filters.event_type = value,
                "delivery_status" => filters.delivery_status = value,
                "endpoint" => filters.endpoint = value,
                "starting_after" => filters.starting_after = value,
                _ => {}
            }
        }
        filters
    }

    fn to_query(&self) -> Result<EventQuery, &'static str> {
        let parse = |text: &str, read: &dyn Fn(&str) -> Option<()>| text.is_empty() || read(text).is_some();
        let event_type = match self.event_type.as_str() {
            "" => None,
            name => Some(EventKind::parse(name).ok_or("Unknown event type.")?),
        };
        let delivery_status = match self.delivery_status.as_str() {
            "" => None,
            name => Some(DeliveryStatus::parse(name).ok_or("Unknown delivery status.")?),
        };
        if !parse(&self.endpoint, &|t| WebhookEndpointId::parse(t).map(drop)) {
            return Err("Unknown endpoint.");
        }
        if !parse(&self.starting_after, &|t| EventId::parse(t).map(drop)) {
            return Err("That page of the list does not exist.");
        }
        Ok(EventQuery {
            payment_id: None,
            event_type,
            delivery_status,
            endpoint_id: WebhookEndpointId::parse(&self.endpoint),
            starting_after: EventId::parse(&self.starting_after),
            limit: PAGE_SIZE,
        })
    }

    fn query_string(&self, extra: &[(&str, &str)]) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in
            [("type", &self.event_type), ("delivery_status", &self.delivery_status), ("endpoint", &self.endpoint)]
        {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        for (name, value) in extra {
            query.append_pair(name, value);
        }
        query.finish()
    }
}

/// How a delivery status looks.
fn tone(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Delivered => "good",
        DeliveryStatus::Failed => "bad",
        DeliveryStatus::Pending => "wait",
        DeliveryStatus::Skipped => "",
    }
}

struct Row {
    id: String,
    event_type: &'static str,
    payment: String,
    status: &'static str,
    tone: &'static str,
    created: String,
}

impl Row {
    fn of(event: &StoredEvent) -> Self {
        Self {
            id: event.id.to_string(),
            event_type: event.event_type.as_str(),
            payment: event.payment_id.as_ref().map(ToString::to_string).unwrap_or_default(),
            status: event.delivery_status.as_str(),
            tone: tone(event.delivery_status),
            created: when(event.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/events.html")]
struct ListPage {
    frame: Frame,
    types: Vec<&'static str>,
    statuses: Vec<&'static str>,
    /// Each endpoint's id and what the filter shows of it.
    endpoints: Vec<(String, String)>,
    event_type: String,
    delivery_status: String,
    endpoint: String,
    error: Option<&'static str>,
    rows: Vec<Row>,
    next_query: Option<String>,
}

/// Every event type, payment events first.
fn every_type() -> Vec<&'static str> {
    EventType::ALL.iter().map(|t| t.as_str()).chain(EndpointEventType::ALL.iter().map(|t| t.as_str())).collect()
}

/// An endpoint as a filter or a destination names it: its description, else its URL.
fn endpoint_label(endpoint: &gatepost_core::endpoints::WebhookEndpoint) -> String {
    let name = endpoint.description.clone().unwrap_or_else(|| endpoint.url.as_str().to_owned());
    format!("{name} ({})", endpoint.id)
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(nonce): Extension<CspNonce>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Response {
    let filters = Filters::parse(raw.as_deref());
    let merchant = viewer.user.merchant_id.clone();
    let frame = Frame::new(&state, &nonce, Some(viewer), Section::Events);
    let endpoints = match state.store().webhook_endpoints(&merchant).await {
        Ok(endpoints) => endpoints.iter().map(|e| (e.id.to_string(), endpoint_label(e))).collect(),
        Err(error) => return super::pages::failure(frame, &error),
    };
    let mut page = ListPage {
        frame,
        types: every_type(),
        statuses: DeliveryStatus::ALL.iter().map(|s| s.as_str()).collect(),
        endpoints,
        event_type: filters.event_type.clone(),
        delivery_status: filters.delivery_status.clone(),
        endpoint: filters.endpoint.clone(),
        error: None,
        rows: Vec::new(),
        next_query: None,
    };
    let query = match filters.to_query() {
        Ok(query) => query,
        Err(error) => {
            page.error = Some(error);
            return html(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let found = match state.store().list_events(&merchant, &query).await {
        Ok(found) => found,
        Err(error) => return super::pages::failure(page.frame, &error),
    };
    page.next_query = found
        .has_more
        .then(|| found.data.last().map(|last| filters.query_string(&[("starting_after", last.id.as_str())])))
        .flatten();
    page.rows = found.data.iter().map(Row::of).collect();
    html(StatusCode::OK, &page)
}

struct DestinationRow {
    endpoint: String,
    url: String,
    status: &'static str,
    tone: &'static str,
    attempts: u32,
    next: String,
}

struct AttemptRow {
    at: String,
    endpoint: String,
    url: String,
    status_code: String,
    duration_ms: i64,
    error: String,
    trigger: &'static str,
    /// What the receiver answered, shown as text.
    response_body: String,
}

#[derive(Template)]
#[template(path = "dashboard/event.html")]
struct DetailPage {
    frame: Frame,
    id: String,
    event_type: &'static str,
    payment: String,
    status: &'static str,
    tone: &'static str,
    created: String,
    /// The exact bytes every attempt sends, as text.
    body: String,
    destinations: Vec<DestinationRow>,
    attempts: Vec<AttemptRow>,
    /// For an admin: the endpoints a resend may go to alone, and the form's key.
    resend: Option<(Vec<(String, String)>, String)>,
    notice: Option<&'static str>,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(nonce): Extension<CspNonce>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let merchant = viewer.user.merchant_id.clone();
    let may_act = viewer.may_act();
    let frame = Frame::new(&state, &nonce, Some(viewer), Section::Events);
    let Some(id) = EventId::parse(&id) else { return not_found(frame, "event") };
    let store = state.store();
    let (event, attempts, endpoints) = match tokio::try_join!(
        store.event(&merchant, &id),
        store.deliveries(&merchant, &id),
        store.webhook_endpoints(&merchant)
    ) {
        Ok((Some(event), attempts, endpoints)) => (event, attempts, endpoints),
        Ok((None, ..)) => return not_found(frame, "event"),
        Err(error) => return super::pages::failure(frame, &error),
    };
    let name_of = |endpoint: Option<&WebhookEndpointId>| match endpoint {
        None => "the payment's webhook_url".to_owned(),
        Some(id) => endpoints.iter().find(|e| &e.id == id).map_or_else(|| format!("{id} (removed)"), endpoint_label),
    };
    let destinations = event
        .destinations
        .iter()
        .map(|d| DestinationRow {
            endpoint: name_of(d.endpoint_id.as_ref()),
            url: d.url.clone(),
            status: d.status.as_str(),
            tone: tone(d.status),
            attempts: d.attempts,
            next: d.next_attempt_at.map(when).unwrap_or_default(),
        })
        .collect();
    let attempts = attempts
        .iter()
        .map(|a| AttemptRow {
            at: when(a.attempted_at),
            endpoint: name_of(a.endpoint_id.as_ref()),
            url: a.url.clone(),
            status_code: a.status_code.map(|code| code.to_string()).unwrap_or_default(),
            duration_ms: a.duration_ms,
            error: a.error.map(|e| e.as_str()).unwrap_or_default().to_owned(),
            trigger: a.trigger.as_str(),
            response_body: a.response_body.clone(),
        })
        .collect();
    let resend = may_act.then(|| {
        let choices = event
            .destinations
            .iter()
            .filter_map(|d| d.endpoint_id.as_ref())
            .map(|id| (id.to_string(), name_of(Some(id))))
            .collect();
        (choices, gatepost_core::ids::random_token(16))
    });
    let notice = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .any(|(name, value)| name == "done" && value == "resend")
        .then_some("Resend requested: the new attempt appears below within moments.");
    let page = DetailPage {
        frame,
        id: event.id.to_string(),
        event_type: event.event_type.as_str(),
        payment: event.payment_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        status: event.delivery_status.as_str(),
        tone: tone(event.delivery_status),
        created: when(event.created_at),
        body: String::from_utf8_lossy(&event.body).into_owned(),
        destinations,
        attempts,
        resend,
        notice,
    };
    html(StatusCode::OK, &page)
}

/// `POST /dashboard/events/{id}/resend`, to every destination or to one endpoint.
pub(crate) async fn resend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AdminForm(form): AdminForm,
) -> Response {
    let work = || async {
        let merchant = &form.viewer.user.merchant_id;
        let Some(event) = EventId::parse(&id) else {
            return Err((StatusCode::NOT_FOUND, "There is no such event in this dashboard.".to_owned()));
        };
        let to = match form.fields.get("endpoint_id") {
            "" => ResendTo::Every,
            raw => ResendTo::Endpoint(
                WebhookEndpointId::parse(raw)
                    .ok_or((StatusCode::UNPROCESSABLE_ENTITY, "Unknown endpoint.".to_owned()))?,
            ),
        };
        match state.store().event(merchant, &event).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err((StatusCode::NOT_FOUND, "There is no such event in this dashboard.".to_owned())),
            Err(error) => {
                tracing::error!(%error, "event not read");
                return Err((StatusCode::INTERNAL_SERVER_ERROR, "The event could not be read. Try again.".into()));
            }
        }
        match state.store().request_resend(merchant, &event, to, state.clock().now()).await {
            Ok(0) => Err((
                StatusCode::CONFLICT,
                "The event has nowhere to go: no webhook URL, that endpoint is not one of its destinations, or \
                 the endpoint is disabled (enable it and recover instead)."
                    .to_owned(),
            )),
            Ok(_) => Ok(Done {
                action: AuditAction::EventResent,
                object_id: Some(event.to_string()),
                detail: Some(form.fields.get("endpoint_id").to_owned()).filter(|e| !e.is_empty()),
                then: format!("/dashboard/events/{event}?done=resend"),
                shown: None,
            }),
            Err(error) => {
                tracing::error!(%error, "resend not requested");
                Err((StatusCode::INTERNAL_SERVER_ERROR, "The resend could not be requested. Try again.".into()))
            }
        }
    };
    once(&state, &form, Section::Events, &["endpoint_id"], work).await
}
