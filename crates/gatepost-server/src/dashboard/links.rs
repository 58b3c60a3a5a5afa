//! `/dashboard/links`: Pay by Link from the dashboard (docs/reference/dashboard.md#payment-links):
//! a payment made with the API's own rules, whose checkout URL is shown with a QR code to
//! send to a customer, and the list of those still open.

use super::once::{Done, Refused, once};
use super::pages::{Frame, Section, html, when};
use super::session::{AdminForm, Viewer};
use crate::AppState;
use crate::api::payment_in::{PaymentIn, Rules};
use crate::hpp::CspNonce;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatepost_core::dashboard::AuditAction;
use gatepost_core::ids::PaymentId;
use gatepost_core::money::{Amount, Currency, format_minor, parse_major};
use gatepost_core::payment::Payment;
use gatepost_core::status::PaymentStatus;
use gatepost_core::urls::Mode;
use gatepost_store::PaymentQuery;
use serde_json::{Value, json};

/// How long a link may stay open: the API's longest expiry, 30 days.
const MAX_DAYS: i64 = 30;
/// Open payments the page lists.
const OPEN_LISTED: u32 = 50;

struct OpenLink {
    id: String,
    amount: String,
    description: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "dashboard/links.html")]
struct LinksPage {
    frame: Frame,
    may_act: bool,
    currencies: Vec<&'static str>,
    days: Vec<i64>,
    idempotency_key: String,
    open: Vec<OpenLink>,
}

#[derive(Template)]
#[template(path = "dashboard/link.html")]
struct LinkPage {
    frame: Frame,
    id: String,
    amount: String,
    description: String,
    status: &'static str,
    expires: String,
    url: String,
    /// The URL as a QR code: an SVG drawn on the server.
    qr: String,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(nonce): Extension<CspNonce>,
    viewer: Viewer,
) -> Response {
    let merchant = viewer.user.merchant_id.clone();
    let may_act = viewer.may_act();
    let frame = Frame::new(&state, &nonce, Some(viewer), Section::Links);
    let query = PaymentQuery { status: Some(PaymentStatus::Open), limit: OPEN_LISTED, ..PaymentQuery::default() };
    let open = match state.store().list_payments(&merchant, &query).await {
        Ok(page) => page.data,
        Err(error) => return super::pages::failure(frame, &error),
    };
    let page = LinksPage {
        frame,
        may_act,
        currencies: Currency::all().map(Currency::code).collect(),
        days: (1..=MAX_DAYS).collect(),
        idempotency_key: gatepost_core::ids::random_token(16),
        open: open
            .iter()
            .map(|p| OpenLink {
                id: p.id.to_string(),
                amount: format_minor(p.amount, p.currency),
                description: p.description.clone().unwrap_or_default(),
                expires: when(p.expires_at),
            })
            .collect(),
    };
    html(StatusCode::OK, &page)
}

/// The QR code of `url` as inline SVG, named for screen readers.
fn qr_svg(url: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(url.as_bytes()) else { return String::new() };
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build();
    let svg = svg.split_once("?>").map_or(svg.as_str(), |(_, rest)| rest);
    svg.replacen("<svg ", "<svg role=\"img\" aria-label=\"QR code of the payment link\" ", 1)
}

/// `GET /dashboard/links/{id}`: a link to send, with its QR code.
pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(nonce): Extension<CspNonce>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Response {
    let merchant = viewer.user.merchant_id.clone();
    let frame = Frame::new(&state, &nonce, Some(viewer), Section::Links);
    let Some(id) = PaymentId::parse(&id) else { return super::pages::not_found(frame, "payment link") };
    let payment = match state.store().payment(&merchant, &id).await {
        Ok(Some(payment)) => payment,
        Ok(None) => return super::pages::not_found(frame, "payment link"),
        Err(error) => return super::pages::failure(frame, &error),
    };
    html(StatusCode::OK, &link_page(frame, &payment))
}

fn link_page(frame: Frame, payment: &Payment) -> LinkPage {
    LinkPage {
        frame,
        id: payment.id.to_string(),
        amount: format_minor(payment.amount, payment.currency),
        description: payment.description.clone().unwrap_or_default(),
        status: gatepost_core::names::Named::as_str(payment.status),
        expires: when(payment.expires_at),
        url: payment.checkout_url.clone(),
        qr: qr_svg(&payment.checkout_url),
    }
}

/// The form as the API's payment request, so that a link obeys exactly the API's rules.
fn request(form: &super::session::PostedForm) -> Result<Value, Refused> {
    let invalid = |text: String| (StatusCode::UNPROCESSABLE_ENTITY, text);
    let code = form.fields.get("currency").trim().to_uppercase();
    let currency = Currency::parse(&code).ok_or_else(|| invalid("currency: not an ISO 4217 currency.".into()))?;
    let typed = form.fields.get("amount");
    let amount = parse_major(typed, currency)
        .filter(|minor| Amount::check_minor(*minor).is_ok())
        .ok_or_else(|| invalid(format!("amount: write it in {code} like 49.00.")))?;
    let days: i64 = form.fields.get("days").parse().unwrap_or(0);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(invalid(format!("days: from 1 to {MAX_DAYS}.")));
    }
    let mut request = json!({"amount": amount, "currency": code, "expires_in": days * 24 * 3600});
    for (field, value) in [("description", form.fields.get("description")), ("reference", form.fields.get("reference"))]
    {
        if !value.trim().is_empty() {
            request[field] = json!(value.trim());
        }
    }
    let return_url = form.fields.get("return_url").trim();
    if !return_url.is_empty() {
        request["return_url"] = json!(return_url);
    }
    Ok(request)
}

/// `POST /dashboard/links`: makes the payment and shows its link.
pub(crate) async fn create(State(state): State<AppState>, AdminForm(form): AdminForm) -> Response {
    let work = || async {
        let request = request(&form)?;
        let body: PaymentIn = serde_json::from_value(request)
            .map_err(|_| (StatusCode::UNPROCESSABLE_ENTITY, "The form could not be read.".to_owned()))?;
        let merchant = match state.store().merchant(&form.viewer.user.merchant_id).await {
            Ok(Some(merchant)) => merchant,
            Ok(None) => return Err((StatusCode::NOT_FOUND, "This merchant no longer exists.".to_owned())),
            Err(error) => {
                tracing::error!(%error, "merchant not read");
                return Err((StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong; nothing was made.".into()));
            }
        };
        let settings = state.settings();
        let rules =
            Rules { mode: settings.mode, forbid_explicit_port: settings.forbid_explicit_port, merchant: &merchant };
        let new = body.validate(&rules).map_err(|errors| {
            let text = errors.iter().map(|e| format!("{}: {}", e.param, e.detail)).collect::<Vec<_>>().join("; ");
            (StatusCode::UNPROCESSABLE_ENTITY, format!("Not made. {text}."))
        })?;
        let payment =
            Payment::open(new, &merchant.id, &settings.public_url, settings.mode == Mode::Live, state.clock().now());
        if let Err(error) = state.store().create_payment(&payment).await {
            tracing::error!(%error, "payment link not made");
            return Err((StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong; nothing was made.".into()));
        }
        state.metrics().payment_created();
        Ok(Done {
            action: AuditAction::PaymentLinkCreated,
            object_id: Some(payment.id.to_string()),
            detail: Some(format_minor(payment.amount, payment.currency)),
            then: format!("/dashboard/links/{}", payment.id),
            shown: None,
        })
    };
    once(&state, &form, Section::Links, &["amount", "currency", "description", "reference", "days", "return_url"], work)
        .await
}

#[cfg(test)]
mod tests {
    use super::qr_svg;

    #[test]
    fn a_link_becomes_an_inline_svg_qr_code() {
        let svg = qr_svg("https://pay.example/pay/AbCdEf");
        assert!(svg.starts_with("<svg role=\"img\" aria-label="), "{svg}");
        assert!(svg.ends_with("</svg>") && svg.contains("<path"), "{svg}");
        assert!(!svg.contains("<?xml"));
    }
}
