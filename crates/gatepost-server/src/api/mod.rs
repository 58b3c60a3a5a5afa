//! The merchant JSON API under `/v1` (docs/reference/api.md, docs/reference/payments.md).
//! Every route needs a secret key; every POST honours `Idempotency-Key`.

pub(crate) mod auth;
pub(crate) mod endpoints;
pub(crate) mod events;
mod idempotency;
pub(crate) mod lists;
pub(crate) mod merchant;
pub(crate) mod operations;
pub(crate) mod payment_in;
pub(crate) mod payments;

use crate::AppState;
use axum::Router;
use axum::middleware::from_fn_with_state;

pub(crate) fn router(state: AppState) -> Router<AppState> {
    // Layers run outside in: authenticate first, so that rate limits count per key and
    // idempotency keys are per merchant; a request over the limit never claims a key.
    Router::new()
        .merge(payments::router())
        .merge(operations::router())
        .merge(events::router())
        .merge(endpoints::router())
        .merge(merchant::router())
        .layer(from_fn_with_state(state.clone(), idempotency::replay_or_run))
        .layer(from_fn_with_state(state.clone(), crate::rate_limit::limit_api))
        .layer(from_fn_with_state(state, auth::require_merchant))
}

/// The `Idempotency-Key` header every POST accepts (docs/reference/api.md#idempotency), for
/// the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub(crate) struct IdempotencyKeyHeader {
    /// 1 to 255 characters. The same key and body within 24 h replays the first
    /// response with `Idempotent-Replayed: true`.
    #[param(rename = "Idempotency-Key")]
    #[allow(dead_code)]
    idempotency_key: Option<String>,
}
