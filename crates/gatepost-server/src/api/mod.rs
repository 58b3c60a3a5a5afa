//! The merchant JSON API under `/v1` (SPEC §2, §3). Every route needs a secret key;
//! every POST honours `Idempotency-Key`.

pub(crate) mod auth;
mod idempotency;
mod payment_in;
mod payments;

use crate::AppState;
use axum::Router;
use axum::middleware::from_fn_with_state;

pub(crate) fn router(state: AppState) -> Router<AppState> {
    // Layers run outside in: authenticate first, so idempotency keys are per merchant.
    Router::new()
        .merge(payments::router())
        .layer(from_fn_with_state(
            state.clone(),
            idempotency::replay_or_run,
        ))
        .layer(from_fn_with_state(state, auth::require_merchant))
}
