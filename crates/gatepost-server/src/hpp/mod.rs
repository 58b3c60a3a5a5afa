//! The hosted payment page (docs/reference/hosted-page.md): server-rendered HTML that works without
//! JavaScript, and the return redirect to the merchant (docs/reference/returns.md).
//!
//! Every response carries `Cache-Control: no-store`, `Referrer-Policy: no-referrer` and a
//! strict Content-Security-Policy whose per-response nonce is the only way a script or
//! style runs.

mod handlers;
mod pages;
mod returns;
mod view;

use crate::AppState;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::{get, post};
use gatepost_core::ids::random_token;

pub(crate) use view::{failure, message};

pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/pay/{token}", get(handlers::show).post(handlers::pay))
        .route("/pay/{token}/cancel", post(handlers::cancel))
        .route("/pay/{token}/3ds", get(handlers::show_challenge).post(handlers::answer_challenge))
        // Inside the security headers, so that a page answered for a panic or over the
        // rate limit has them too.
        .layer(from_fn_with_state(state.clone(), crate::panics::as_page))
        .layer(from_fn_with_state(state, crate::rate_limit::limit_pay))
        .layer(from_fn(security_headers))
}

/// The nonce that lets this response's own `<script>` and `<style>` run.
#[derive(Clone, Debug)]
pub(crate) struct CspNonce(pub(crate) String);

pub(crate) async fn security_headers(mut request: Request, next: Next) -> Response {
    let nonce = random_token(16);
    request.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut response = next.run(request).await;
    let csp = format!(
        "default-src 'self'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    );
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_str(&csp).expect("ASCII policy"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}
