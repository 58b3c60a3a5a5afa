//! A panic while serving a request is answered, never a dropped connection
//! (docs/reference/limits.md#panics): `500 internal` as problem+json, or the hosted page's error
//! page on `/pay`. The panic's message is never logged or answered, because it may quote
//! the request (a card field, a reference); the process's panic hook reports only where
//! it happened.

use crate::error::ApiError;
use crate::{AppState, hpp};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;

/// Runs the rest of the request, turning a panic into `Err`.
async fn run_catching(request: Request, next: Next) -> Result<Response, ()> {
    // The request and the handler's state are dropped with the unwinding future, so no
    // broken value outlives the panic: the assertion holds.
    AssertUnwindSafe(next.run(request)).catch_unwind().await.map_err(|_| ())
}

/// Middleware for the JSON routes: a panic becomes `500 internal` in problem+json.
pub(crate) async fn as_problem(request: Request, next: Next) -> Response {
    run_catching(request, next)
        .await
        .unwrap_or_else(|()| ApiError::internal(&"a request handler panicked").into_response())
}

/// Middleware for the hosted page: a panic becomes its HTML error page, with the
/// response's CSP nonce (the security headers middleware runs outside this one).
pub(crate) async fn as_page(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let nonce = request.extensions().get::<hpp::CspNonce>().map(|n| n.0.clone()).unwrap_or_default();
    run_catching(request, next).await.unwrap_or_else(|()| hpp::failure(&state, &nonce, &"a request handler panicked"))
}

/// Middleware for the dashboard: a panic becomes its HTML error page.
pub(crate) async fn as_dashboard_page(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let nonce = request.extensions().get::<hpp::CspNonce>().cloned().unwrap_or(hpp::CspNonce(String::new()));
    run_catching(request, next).await.unwrap_or_else(|()| crate::dashboard::panicked(&state, &nonce))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AppState, Connectors, Settings};
    use axum::Router;
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode};
    use axum::middleware::{from_fn, from_fn_with_state};
    use axum::routing::get;
    use gatepost_core::time::SystemClock;
    use std::sync::Arc;
    use tower::ServiceExt;

    const SECRET_INPUT: &str = "4242424242424242";

    async fn panicking_handler() -> &'static str {
        panic!("byte index 1 is not a char boundary of `{SECRET_INPUT}`");
    }

    async fn answer(router: Router, path: &str) -> (StatusCode, String, String) {
        let response = router.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        let body = to_bytes(response.into_body(), 64 * 1024).await.unwrap();
        (status, content_type, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_panicking_api_handler_answers_500_internal_as_problem_json() {
        let router = Router::new().route("/v1/boom", get(panicking_handler)).layer(from_fn(as_problem));

        let (status, content_type, body) = answer(router, "/v1/boom").await;

        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(content_type, "application/problem+json");
        assert!(body.contains(r#""code":"internal""#), "{body}");
        assert!(!body.contains(SECRET_INPUT), "the panic's message is not answered: {body}");
    }

    #[tokio::test]
    async fn a_panicking_page_answers_the_hosted_pages_error_page() {
        let dir = tempfile::tempdir().unwrap();
        let store = gatepost_store::open(&format!("sqlite://{}", dir.path().join("db").display())).await.unwrap();
        let settings = Settings {
            public_url: "http://x".into(),
            mode: gatepost_core::urls::Mode::Sandbox,
            forbid_explicit_port: false,
            metrics_token: None,
            limits: crate::RequestLimits {
                body_timeout: std::time::Duration::from_secs(30),
                api_rate: None,
                pay_rate: None,
            },
        };
        let state = AppState::new(store, Arc::new(SystemClock), settings, Connectors::new(Vec::new()));
        let router = Router::new()
            .route("/pay/boom", get(panicking_handler))
            .layer(from_fn_with_state(state.clone(), as_page))
            .with_state(state);

        let (status, content_type, body) = answer(router, "/pay/boom").await;

        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(content_type, "text/html; charset=utf-8");
        assert!(body.contains("Something went wrong"), "{body}");
        assert!(!body.contains(SECRET_INPUT), "the panic's message is not shown: {body}");
    }
}
