//! `Idempotency-Key` on every POST (docs/reference/api.md#idempotency): the first response
//! is stored and replayed byte for byte; the same key with another body, or while the first
//! still runs, is refused.

use crate::error::NotReplayable;
use crate::extract::read_body;
use crate::{ApiError, AppState};
use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use gatepost_core::idempotency::{IdempotencyClaim, StoredResponse};
use gatepost_core::payment::Merchant;
use gatepost_core::time::Timestamp;
use sha2::{Digest as _, Sha256};

const HEADER: &str = "idempotency-key";
const MAX_KEY_CHARS: usize = 255;

pub(crate) async fn replay_or_run(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if request.method() != Method::POST || !request.headers().contains_key(HEADER) {
        return Ok(next.run(request).await);
    }
    let key = idempotency_key(&request)?;
    let merchant = request.extensions().get::<Merchant>().cloned().expect("authentication runs before idempotency");
    let (parts, body) = request.into_parts();
    let body = read_body(body).await?;
    // The full path: inside the `/v1` router `parts.uri` has lost its prefix.
    let path = parts.extensions.get::<OriginalUri>().map_or(parts.uri.path(), |uri| uri.path());
    let request_hash = fingerprint(&parts.method, path, &body);
    let now = state.clock().now();
    match state.store().claim_idempotency_key(&merchant.id, &key, &request_hash, now).await? {
        IdempotencyClaim::Claimed => {}
        IdempotencyClaim::Replay(stored) => return Ok(replay(stored)),
        IdempotencyClaim::InUse => return Err(ApiError::idempotency_key_in_use()),
        IdempotencyClaim::Reused => return Err(ApiError::idempotency_key_reused()),
    }
    // The request runs in its own task, so a client that hangs up cannot cut it off
    // between doing the work and recording the response its retry will get.
    let request = Request::from_parts(parts, Body::from(body));
    let run = tokio::spawn(async move {
        let response = next.run(request).await;
        record(&state, &merchant, &key, now, response).await
    });
    run.await.map_err(|error| ApiError::internal(&error))?
}

fn idempotency_key(request: &Request) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::validation(vec![crate::error::FieldError::new(
            "Idempotency-Key",
            "invalid_value",
            "must be 1 to 255 visible ASCII characters",
        )])
    };
    let key = request.headers().get(HEADER).and_then(|v| v.to_str().ok()).ok_or_else(invalid)?;
    let valid = (1..=MAX_KEY_CHARS).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    if valid { Ok(key.to_owned()) } else { Err(invalid()) }
}

/// What makes two requests "the same": method, path and body bytes.
fn fingerprint(method: &Method, path: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Stores the response for replay. An unexpected failure, an answer that asks the client
/// to try again, and an answer that shows a secret free the key instead, so that a retry
/// runs the request again rather than replaying them.
async fn record(
    state: &AppState,
    merchant: &Merchant,
    key: &str,
    claimed_at: Timestamp,
    response: Response,
) -> Result<Response, ApiError> {
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.map_err(|error| ApiError::internal(&error))?;
    if parts.status.is_server_error() || parts.extensions.get::<NotReplayable>().is_some() {
        state.store().release_idempotency_key(&merchant.id, key, claimed_at).await?;
    } else {
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_owned();
        let stored = StoredResponse { status: parts.status.as_u16(), content_type, body: body.to_vec() };
        state.store().record_idempotent_response(&merchant.id, key, claimed_at, &stored).await?;
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let content_type =
        HeaderValue::from_str(&stored.content_type).unwrap_or(HeaderValue::from_static("application/json"));
    (
        status,
        [
            (header::CONTENT_TYPE, content_type),
            (header::HeaderName::from_static("idempotent-replayed"), HeaderValue::from_static("true")),
        ],
        stored.body,
    )
        .into_response()
}
