//! The dashboard (docs/reference/dashboard.md): server-rendered pages under `/dashboard`
//! where a merchant's people see payments and webhooks and act on them, without
//! JavaScript, behind a server-side session.
//!
//! - `session`: the session cookie, the signed-in user ([`session::Viewer`]) and the forms
//!   they post, each checked for its `csrf_token` and, for actions, the admin role.
//! - `sign_in`: the sign-in form, one-time links and sign-out, with throttling.
//! - `pages`: the askama templates and the frame around every page.
//! - the pages: `overview` (with `charts`, SVG drawn on the server), `payments` (with
//!   `actions`: capture, refund, cancel), `links` (Pay by Link with a QR code), `events`,
//!   `webhooks` (endpoints), `developers` (API keys) and `settings` (merchant, team,
//!   audit log).
//! - `once`: every form that acts runs once per its idempotency key and is audited.
//!
//! Every response has the hosted page's security headers (a nonce CSP, `no-store`,
//! `no-referrer`), and every error is an HTML page.

mod actions;
mod charts;
mod developers;
mod events;
mod links;
mod once;
mod overview;
mod pages;
mod payments;
mod session;
mod settings;
mod sign_in;
mod webhooks;

use crate::AppState;
use crate::hpp::security_headers;
use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{any, get, post};

pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(overview::show))
        .route("/dashboard/login", get(sign_in::form).post(sign_in::sign_in))
        .route("/dashboard/login/{token}", get(sign_in::follow_link))
        .route("/dashboard/logout", post(sign_in::sign_out))
        .route("/dashboard/payments", get(payments::list))
        .route("/dashboard/payments/{id}", get(payments::show))
        .route("/dashboard/payments/{id}/capture", post(actions::capture))
        .route("/dashboard/payments/{id}/refund", post(actions::refund))
        .route("/dashboard/payments/{id}/cancel", post(actions::cancel))
        .route("/dashboard/links", get(links::list).post(links::create))
        .route("/dashboard/links/{id}", get(links::show))
        .route("/dashboard/events", get(events::list))
        .route("/dashboard/events/{id}", get(events::show))
        .route("/dashboard/events/{id}/resend", post(events::resend))
        .route("/dashboard/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/dashboard/webhooks/{id}", get(webhooks::show).post(webhooks::update))
        .route("/dashboard/webhooks/{id}/status", post(webhooks::set_status))
        .route("/dashboard/webhooks/{id}/rotate", post(webhooks::rotate))
        .route("/dashboard/webhooks/{id}/test", post(webhooks::test))
        .route("/dashboard/webhooks/{id}/recover", post(webhooks::recover))
        .route("/dashboard/webhooks/{id}/remove", post(webhooks::remove))
        .route("/dashboard/developers", get(developers::show))
        .route("/dashboard/developers/keys", post(developers::create_key))
        .route("/dashboard/developers/keys/{id}/revoke", post(developers::revoke_key))
        .route("/dashboard/settings", get(settings::show).post(settings::save))
        .route("/dashboard/settings/password", post(settings::set_password))
        .route("/dashboard/settings/users", post(settings::invite))
        .route("/dashboard/settings/users/{id}/remove", post(settings::remove))
        .route("/dashboard/{*rest}", any(pages::no_such_page))
        .method_not_allowed_fallback(pages::method_not_allowed)
        .layer(from_fn_with_state(state, crate::panics::as_dashboard_page))
        .layer(from_fn(security_headers))
}

/// Writes an action to the merchant's audit log. The action has happened: a log that
/// cannot be written is reported, and the user still gets their answer.
pub(crate) async fn record(
    state: &AppState,
    user: &gatepost_core::dashboard::User,
    action: gatepost_core::dashboard::AuditAction,
    object_id: Option<String>,
    detail: Option<String>,
) {
    let entry = gatepost_store::AuditEntry {
        id: gatepost_core::ids::AuditId::generate(),
        merchant_id: user.merchant_id.clone(),
        user_id: user.id.clone(),
        user_email: user.email.as_str().to_owned(),
        action,
        object_id,
        detail,
        at: state.clock().now(),
    };
    if let Err(error) = state.store().audit(&entry).await {
        tracing::error!(%error, action = gatepost_core::names::Named::as_str(action), "audit log not written");
    }
}

/// The page for a request whose handler panicked.
pub(crate) fn panicked(state: &AppState, nonce: &crate::hpp::CspNonce) -> axum::response::Response {
    pages::failure(pages::Frame::new(state, nonce, None, pages::Section::None), &"a dashboard handler panicked")
}
