//! `/dashboard/payments`: the list with its filters and CSV export, and one payment with
//! its timeline (docs/reference/dashboard.md#payments).

use super::pages::{Frame, Section, html, not_found, when};
use super::session::Viewer;
use crate::AppState;
use crate::hpp::CspNonce;
use askama::Template;
use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatepost_core::delivery::DeliveryStatus;
use gatepost_core::ids::{MerchantId, PaymentId};
use gatepost_core::money::format_minor;
use gatepost_core::names::Named as _;
use gatepost_core::payment::{Payment, RefundStatus};
use gatepost_core::status::PaymentStatus;
use gatepost_core::time::Timestamp;
use gatepost_store::{EventQuery, PaymentQuery, Store};
use std::sync::Arc;

/// Payments on one page of the list.
const PAGE_SIZE: u32 = 50;
/// Payments read per query while a CSV export streams.
const EXPORT_BATCH: u32 = 500;
/// Longest reference or search text a filter takes.
const MAX_FILTER_CHARS: usize = 255;

/// The list's filters as the form sent them, shown back in the form.
#[derive(Debug, Default)]
pub(crate) struct Filters {
    q: String,
    status: String,
    reference: String,
    from: String,
    to: String,
    starting_after: String,
    csv: bool,
}

impl Filters {
    fn parse(raw: Option<&str>) -> Self {
        let mut filters = Self::default();
        for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let value: String = value.trim().chars().take(MAX_FILTER_CHARS).collect();
            match name.as_ref() {
                "q" => filters.q = value,
                "status" => filters.status = value,
                "reference" => filters.reference = value,
                "from" => filters.from = value,
                "to" => filters.to = value,
                "starting_after" => filters.starting_after = value,
                "format" => filters.csv = value == "csv",
                _ => {}
            }
        }
        filters
    }

    /// The query string of these filters, with `extra` pairs after them.
    fn query_string(&self, extra: &[(&str, &str)]) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("q", &self.q),
            ("status", &self.status),
            ("reference", &self.reference),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        for (name, value) in extra {
            query.append_pair(name, value);
        }
        query.finish()
    }

    /// The store query, or why a filter was not understood.
    fn to_query(&self, limit: u32) -> Result<PaymentQuery, &'static str> {
        let status = match self.status.as_str() {
            "" => None,
            name => Some(PaymentStatus::parse(name).ok_or("Unknown status.")?),
        };
        let date = |text: &str| -> Result<Option<Timestamp>, &'static str> {
            if text.is_empty() {
                return Ok(None);
            }
            let valid = text.len() == 10 && text.is_ascii();
            let at = valid.then(|| Timestamp::parse_rfc3339(&format!("{text}T00:00:00Z"))).flatten();
            at.map(Some).ok_or("Dates are written YYYY-MM-DD.")
        };
        let starting_after = match self.starting_after.as_str() {
            "" => None,
            id => Some(PaymentId::parse(id).ok_or("That page of the list does not exist.")?),
        };
        let clean = |text: &str| gatepost_core::text::is_clean(text, false);
        if !clean(&self.q) || !clean(&self.reference) {
            return Err("Filters may not contain control characters.");
        }
        // A search is read by its form: a payment id opens that payment (in `list`), an
        // address searches the customer's e-mail, four digits a card's last 4, anything else
        // a reference.
        let q = self.q.as_str();
        let (customer_email, card_last4, searched_reference) = if q.contains('@') {
            (Some(q.to_owned()), None, None)
        } else if q.len() == 4 && q.bytes().all(|b| b.is_ascii_digit()) {
            (None, Some(q.to_owned()), None)
        } else {
            (None, None, (!q.is_empty()).then(|| q.to_owned()))
        };
        let reference = (!self.reference.is_empty()).then(|| self.reference.clone()).or(searched_reference);
        Ok(PaymentQuery {
            status,
            reference,
            starting_after,
            created_from: date(&self.from)?,
            created_before: date(&self.to)?.map(|day| day.plus_seconds(24 * 3600)),
            customer_email,
            card_last4,
            limit,
        })
    }
}

/// One payment as a row of the list.
#[derive(Debug)]
struct Row {
    id: String,
    status: &'static str,
    tone: &'static str,
    amount: String,
    reference: String,
    customer: String,
    created: String,
}

/// How a status looks: good, bad, waiting or plain.
pub(crate) fn tone(status: PaymentStatus) -> &'static str {
    match status {
        PaymentStatus::Success | PaymentStatus::Authorized => "good",
        PaymentStatus::Failed | PaymentStatus::Expired | PaymentStatus::Cancelled => "bad",
        PaymentStatus::Pending | PaymentStatus::Open => "wait",
        PaymentStatus::Refunded => "",
    }
}

fn customer(payment: &Payment) -> String {
    let customer = payment.customer.as_ref();
    let parts = [customer.and_then(|c| c.name.clone()), customer.and_then(|c| c.email.clone())];
    parts.into_iter().flatten().collect::<Vec<_>>().join(" · ")
}

impl Row {
    fn of(payment: &Payment) -> Self {
        Self {
            id: payment.id.to_string(),
            status: payment.status.as_str(),
            tone: tone(payment.status),
            amount: format_minor(payment.amount, payment.currency),
            reference: payment.reference.clone().unwrap_or_default(),
            customer: customer(payment),
            created: when(payment.created_at),
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/payments.html")]
struct ListPage {
    frame: Frame,
    filters: Filters,
    statuses: Vec<&'static str>,
    error: Option<&'static str>,
    rows: Vec<Row>,
    next_query: Option<String>,
    csv_query: String,
}

/// `GET /dashboard/payments`, and with `format=csv` the export of every payment the filters
/// match.
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(nonce): Extension<CspNonce>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Response {
    let filters = Filters::parse(raw.as_deref());
    let merchant = viewer.user.merchant_id.clone();
    let frame = Frame::new(&state, &nonce, Some(viewer), Section::Payments);
    if let Some(id) = PaymentId::parse(&filters.q) {
        return (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/dashboard/payments/{id}"))]).into_response();
    }
    let statuses = PaymentStatus::ALL.iter().map(|s| s.as_str()).collect();
    let csv_query = filters.query_string(&[("format", "csv")]);
    let query = match filters.to_query(if filters.csv { EXPORT_BATCH } else { PAGE_SIZE }) {
        Ok(query) => query,
        Err(error) => {
            let page =
                ListPage { frame, filters, statuses, error: Some(error), rows: vec![], next_query: None, csv_query };
            return html(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    if filters.csv {
        return csv_export(Arc::clone(state.inner_store()), merchant, query);
    }
    let found = match state.store().list_payments(&merchant, &query).await {
        Ok(found) => found,
        Err(error) => return super::pages::failure(frame, &error),
    };
    let next_query = found
        .has_more
        .then(|| found.data.last().map(|last| filters.query_string(&[("starting_after", last.id.as_str())])))
        .flatten();
    let rows = found.data.iter().map(Row::of).collect();
    html(StatusCode::OK, &ListPage { frame, filters, statuses, error: None, rows, next_query, csv_query })
}

/// A CSV field: quoted, with quotes doubled, and a leading `=`, `+`, `-`, `@`, tab or
/// carriage return (OWASP's list) defused so that a spreadsheet never runs a reference as
/// a formula.
fn csv_field(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

const CSV_HEADER: &str = "id,status,amount,currency,amount_captured,amount_refunded,reference,description,customer_email,customer_name,created_at\r\n";

fn csv_line(payment: &Payment) -> String {
    let customer = payment.customer.as_ref();
    let fields = [
        payment.id.to_string(),
        payment.status.as_str().to_owned(),
        payment.amount.to_string(),
        payment.currency.to_string(),
        payment.amount_captured.to_string(),
        payment.amount_refunded.to_string(),
        payment.reference.clone().unwrap_or_default(),
        payment.description.clone().unwrap_or_default(),
        customer.and_then(|c| c.email.clone()).unwrap_or_default(),
        customer.and_then(|c| c.name.clone()).unwrap_or_default(),
        payment.created_at.to_rfc3339(),
    ];
    let mut line = fields.iter().map(|field| csv_field(field)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// Streams every matching payment as CSV, one batch at a time, so an export of any size
/// holds one batch in memory.
fn csv_export(store: Arc<dyn Store>, merchant: MerchantId, first: PaymentQuery) -> Response {
    let batches = futures_util::stream::unfold(Some(first), move |next| {
        let (store, merchant) = (Arc::clone(&store), merchant.clone());
        async move {
            let mut query = next?;
            match store.list_payments(&merchant, &query).await {
                Ok(page) => {
                    let text: String = page.data.iter().map(csv_line).collect();
                    let after = page.has_more.then(|| page.data.last().map(|p| p.id.clone())).flatten();
                    let following = after.map(|id| {
                        query.starting_after = Some(id);
                        query
                    });
                    Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(text)), following))
                }
                Err(error) => {
                    tracing::error!(%error, "CSV export stopped");
                    Some((Err(std::io::Error::other("the export could not be read")), None))
                }
            }
        }
    });
    let header_line = futures_util::stream::once(async { Ok(axum::body::Bytes::from_static(CSV_HEADER.as_bytes())) });
    let body = Body::from_stream(futures_util::StreamExt::chain(header_line, batches));
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"payments.csv\""),
        ],
        body,
    )
        .into_response()
}

/// The payment's facts as the detail page shows them.
#[derive(Debug)]
struct Facts {
    id: String,
    status: &'static str,
    tone: &'static str,
    amount: String,
    currency: String,
    reference: String,
    description: String,
    customer: String,
    captured: String,
    refunded: String,
    checkout_url: String,
    created: String,
    expires: String,
    metadata: Vec<(String, String)>,
}

/// One line of the timeline.
#[derive(Debug)]
struct Moment {
    at_millis: i64,
    at: String,
    title: String,
    detail: String,
    link: Option<String>,
}

/// What an admin may do to the payment now, with the form's idempotency key.
#[derive(Debug)]
struct Actions {
    capture: bool,
    refund: bool,
    cancel: bool,
    capturable: String,
    capturable_plain: String,
    refundable: String,
    refundable_plain: String,
    idempotency_key: String,
}

#[derive(Template)]
#[template(path = "dashboard/payment.html")]
struct DetailPage {
    frame: Frame,
    p: Facts,
    notice: Option<(&'static str, String)>,
    actions: Option<Actions>,
    timeline: Vec<Moment>,
}

fn timeline(payment: &Payment, events: &[gatepost_store::StoredEvent]) -> Vec<Moment> {
    let moment = |at: Timestamp, title: String, detail: String, link: Option<String>| Moment {
        at_millis: at.millis(),
        at: when(at),
        title,
        detail,
        link,
    };
    let money = |minor: i64| format_minor(minor, payment.currency);
    let mut moments = vec![moment(payment.created_at, "Created".into(), money(payment.amount), None)];
    for attempt in &payment.attempts {
        let mut detail = format!("{} •••• {}", attempt.card.brand, attempt.card.last4);
        if let Some(code) = &attempt.decline_code {
            detail.push_str(&format!(" · declined: {code}"));
        }
        if attempt.three_ds.required {
            let result = attempt.three_ds.result.as_deref().unwrap_or("waiting");
            detail.push_str(&format!(" · 3-D Secure: {result}"));
        }
        let status = attempt.status.as_str();
        moments.push(moment(attempt.created_at, format!("Attempt {} {status}", attempt.number), detail, None));
    }
    for refund in &payment.refunds {
        let mut detail = money(refund.amount);
        if let Some(reason) = &refund.reason {
            detail.push_str(&format!(" · {reason}"));
        }
        if refund.status == RefundStatus::Failed {
            detail.push_str(&format!(" · failed: {}", refund.failure_code.as_deref().unwrap_or("unknown")));
        }
        moments.push(moment(refund.created_at, format!("Refund {}", refund.status.as_str()), detail, None));
    }
    for event in events {
        let delivery = match event.delivery_status {
            DeliveryStatus::Delivered => "delivered",
            status => status.as_str(),
        };
        moments.push(moment(
            event.created_at,
            format!("Event {}", event.event_type.as_str()),
            format!("webhook {delivery}"),
            None,
        ));
    }
    moments.sort_by_key(|m| m.at_millis);
    moments
}

/// `GET /dashboard/payments/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(nonce): Extension<CspNonce>,
    viewer: Viewer,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let merchant = viewer.user.merchant_id.clone();
    let may_act = viewer.may_act();
    let frame = Frame::new(&state, &nonce, Some(viewer), Section::Payments);
    let Some(id) = PaymentId::parse(&id) else { return not_found(frame, "payment") };
    let payment = match state.store().payment(&merchant, &id).await {
        Ok(Some(payment)) => payment,
        Ok(None) => return not_found(frame, "payment"),
        Err(error) => return super::pages::failure(frame, &error),
    };
    let query = EventQuery { payment_id: Some(id), limit: 100, ..EventQuery::default() };
    let events = match state.store().list_events(&merchant, &query).await {
        Ok(page) => page.data,
        Err(error) => return super::pages::failure(frame, &error),
    };
    let money = |minor: i64| format_minor(minor, payment.currency);
    let p = Facts {
        id: payment.id.to_string(),
        status: payment.status.as_str(),
        tone: tone(payment.status),
        amount: money(payment.amount),
        currency: payment.currency.to_string(),
        reference: payment.reference.clone().unwrap_or_default(),
        description: payment.description.clone().unwrap_or_default(),
        customer: customer(&payment),
        captured: money(payment.amount_captured),
        refunded: money(payment.amount_refunded),
        checkout_url: payment.checkout_url.clone(),
        created: when(payment.created_at),
        expires: when(payment.expires_at),
        metadata: payment.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
    };
    let timeline = timeline(&payment, &events);
    let notice = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "done")
        .and_then(|(_, done)| super::actions::Action::from_done(&done))
        .map(|(_, text)| ("ok", text.to_owned()));
    let actions = may_act.then(|| actions(&payment)).flatten();
    html(StatusCode::OK, &DetailPage { frame, p, notice, actions, timeline })
}

/// The actions the payment's status allows, for an admin; `None` when there are none.
fn actions(payment: &Payment) -> Option<Actions> {
    let plain = |minor: i64| {
        let shown = format_minor(minor, payment.currency);
        shown.rsplit_once(' ').map_or(shown.clone(), |(number, _)| number.replace(',', ""))
    };
    let capturable = payment.amount;
    let refunded_or_pending: i64 =
        payment.refunds.iter().filter(|r| r.status != RefundStatus::Failed).map(|r| r.amount).sum();
    let refundable = (payment.amount_captured - refunded_or_pending).max(0);
    let actions = Actions {
        capture: payment.status == PaymentStatus::Authorized,
        refund: payment.status == PaymentStatus::Success && refundable > 0,
        cancel: matches!(payment.status, PaymentStatus::Open | PaymentStatus::Authorized),
        capturable: format_minor(capturable, payment.currency),
        capturable_plain: plain(capturable),
        refundable: format_minor(refundable, payment.currency),
        refundable_plain: plain(refundable),
        idempotency_key: gatepost_core::ids::random_token(16),
    };
    (actions.capture || actions.refund || actions.cancel).then_some(actions)
}
