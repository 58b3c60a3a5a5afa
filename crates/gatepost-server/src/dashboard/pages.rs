//! The dashboard's templates: askama checks them at compile time and escapes every value,
//! so text from merchants, shoppers and webhook receivers can never become markup.

use super::session::Viewer;
use crate::AppState;
use crate::hpp::CspNonce;
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatepost_core::urls::Mode;

/// What every page shows around its content.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) nonce: String,
    pub(crate) sandbox: bool,
    /// `None` on the pages before sign-in.
    pub(crate) viewer: Option<Viewer>,
    /// The page's place in the navigation.
    pub(crate) section: Section,
}

/// The sections of the navigation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Section {
    None,
    Overview,
    Payments,
    Links,
    Events,
    Webhooks,
    Developers,
    Settings,
}

const NAVIGATION: [(&str, &str, Section); 7] = [
    ("/dashboard", "Overview", Section::Overview),
    ("/dashboard/payments", "Payments", Section::Payments),
    ("/dashboard/links", "Payment links", Section::Links),
    ("/dashboard/events", "Events", Section::Events),
    ("/dashboard/webhooks", "Webhooks", Section::Webhooks),
    ("/dashboard/developers", "Developers", Section::Developers),
    ("/dashboard/settings", "Settings", Section::Settings),
];

impl Frame {
    pub(crate) fn new(state: &AppState, nonce: &CspNonce, viewer: Option<Viewer>, section: Section) -> Self {
        Self { nonce: nonce.0.clone(), sandbox: state.settings().mode == Mode::Sandbox, viewer, section }
    }

    /// Each link of the navigation: its path, its name, and whether it is this page's.
    pub(crate) fn nav(&self) -> Vec<(&'static str, &'static str, bool)> {
        NAVIGATION.iter().map(|&(path, name, section)| (path, name, section == self.section)).collect()
    }

    /// The session's `csrf_token`, which every form of a signed-in page carries.
    pub(crate) fn csrf(&self) -> &str {
        self.viewer.as_ref().map_or("", |viewer| viewer.csrf_token.as_str())
    }
}

#[derive(Template)]
#[template(path = "dashboard/message.html")]
pub(crate) struct MessagePage {
    pub(crate) frame: Frame,
    pub(crate) heading: &'static str,
    pub(crate) message: String,
    /// A link onwards: its path and its text.
    pub(crate) link: Option<(&'static str, &'static str)>,
    /// Where the page sends the browser at once (after a sign-in link, whose cookie a
    /// browser sends only on a navigation that starts on this site).
    pub(crate) refresh_to: Option<&'static str>,
}

/// A time as the dashboard shows it: `2026-12-01 09:30:05 UTC`.
pub(crate) fn when(at: gatepost_core::time::Timestamp) -> String {
    let text = at.to_rfc3339();
    format!("{} UTC", text.get(..19).unwrap_or(&text).replace('T', " "))
}

/// A rendered page with its status.
pub(crate) fn html(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(error) => {
            tracing::error!(%error, "dashboard page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong.").into_response()
        }
    }
}

/// A page that says one thing, with `status`.
pub(crate) fn message(
    frame: Frame,
    status: StatusCode,
    heading: &'static str,
    message: impl Into<String>,
    link: Option<(&'static str, &'static str)>,
) -> Response {
    html(status, &MessagePage { frame, heading, message: message.into(), link, refresh_to: None })
}

pub(crate) fn not_found(frame: Frame, what: &str) -> Response {
    let text = format!("There is no such {what} in this dashboard.");
    message(frame, StatusCode::NOT_FOUND, "Not found", text, Some(("/dashboard", "Go to the overview")))
}

pub(crate) fn forbidden(frame: Frame, why: &'static str) -> Response {
    message(frame, StatusCode::FORBIDDEN, "Not allowed", why, Some(("/dashboard", "Go to the overview")))
}

pub(crate) fn failure(frame: Frame, error: &dyn std::fmt::Display) -> Response {
    tracing::error!(%error, "dashboard request failed");
    let text = "The dashboard could not answer right now. Try again in a moment.";
    message(frame, StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", text, None)
}

pub(crate) async fn no_such_page(State(state): State<AppState>, Extension(nonce): Extension<CspNonce>) -> Response {
    not_found(Frame::new(&state, &nonce, None, Section::None), "page")
}

pub(crate) async fn method_not_allowed(
    State(state): State<AppState>,
    Extension(nonce): Extension<CspNonce>,
) -> Response {
    let frame = Frame::new(&state, &nonce, None, Section::None);
    message(frame, StatusCode::METHOD_NOT_ALLOWED, "Not allowed", "This page does not take that request.", None)
}
