//! `POST /callbacks/{connector}`: where acquirers report results (docs/reference/callbacks.md). The
//! connector verifies its own signature; everything after is `flow::receive_callback`.

use crate::extract::{AppPath, read_body};
use crate::flow::{CallbackAnswer, receive_callback};
use crate::{ApiError, AppState};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/callbacks/{connector}", post(receive))
}

async fn receive(
    State(state): State<AppState>,
    AppPath(connector): AppPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let body = read_body(body).await?;
    let answer =
        receive_callback(&state, &connector, &headers, &body).await.map_err(|error| ApiError::internal(&error))?;
    match answer {
        CallbackAnswer::Accepted => {
            Ok((StatusCode::OK, axum::Json(serde_json::json!({"received": true}))).into_response())
        }
        CallbackAnswer::BadSignature => {
            tracing::warn!(%connector, "callback with a bad signature refused");
            Err(ApiError::bad_callback_signature())
        }
        CallbackAnswer::Malformed(detail) => Err(ApiError::invalid_json(detail)),
        CallbackAnswer::UnknownConnector => Err(ApiError::not_found("connector")),
    }
}
