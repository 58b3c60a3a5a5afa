//! Work that runs on timers in every gateway process: expiring payments, polling pending
//! attempts and refunds, forgetting idempotency keys after 24 hours, and forgetting ended
//! dashboard sessions. The database says what is due, so several processes, restarts and
//! crashes lose nothing; doing an item twice is harmless (the status machine ignores the
//! second).

use crate::AppState;
use std::time::Duration;
use tokio::sync::watch;

/// How often the sweeps run: `OPEN` payments expire within this of `expires_at`
/// (docs/reference/payments.md#expiry promises 5 seconds).
const TICK: Duration = Duration::from_secs(1);

/// Idempotency keys are forgotten once a minute: each sweep is a write.
const KEY_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// Runs the sweeps until `stop` turns true. Each runs on a timer of its own, so expiry —
/// which only writes to the database — never waits for a connector that is slow to
/// answer a poll.
pub async fn run_sweeps(state: AppState, stop: watch::Receiver<bool>) {
    tokio::join!(
        every(TICK, stop.clone(), || expire(&state)),
        every(TICK, stop.clone(), || poll_attempts(&state)),
        every(TICK, stop.clone(), || poll_refunds(&state)),
        every(KEY_SWEEP_INTERVAL, stop.clone(), || forget_expired_keys(&state)),
        every(KEY_SWEEP_INTERVAL, stop.clone(), || forget_dashboard_leftovers(&state)),
        every(KEY_SWEEP_INTERVAL, stop, || async { state.inner.rate_limits.forget_full_buckets() }),
    );
}

/// Runs `sweep` every `period` (the next run starts a period after the last one began,
/// or at once if it took longer) until `stop` turns true.
async fn every<F: Future<Output = ()>>(
    period: Duration,
    mut stop: watch::Receiver<bool>,
    mut sweep: impl FnMut() -> F,
) {
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !*stop.borrow() {
        tokio::select! {
            _ = ticks.tick() => sweep().await,
            changed = stop.changed() => if changed.is_err() { return },
        }
    }
}

/// Idempotency keys are replayed for 24 hours (docs/reference/api.md#idempotency), then removed.
async fn forget_expired_keys(state: &AppState) {
    match state.store().forget_expired_idempotency_keys(state.clock().now()).await {
        Ok(0) => {}
        Ok(forgotten) => tracing::info!(forgotten, "forgot expired idempotency keys"),
        Err(error) => tracing::error!(%error, "idempotency key sweep failed"),
    }
}

/// Failed sign-ins older than the throttling window, sessions idle past their end and
/// expired sign-in links are kept no longer than they count (docs/reference/dashboard.md#sessions).
async fn forget_dashboard_leftovers(state: &AppState) {
    use gatepost_core::dashboard::{SESSION_IDLE, SIGN_IN_WINDOW};
    let now = state.clock().now();
    let before = |window: Duration| now.plus_millis(-i64::try_from(window.as_millis()).unwrap_or(i64::MAX));
    match state.store().forget_dashboard_leftovers(now, before(SIGN_IN_WINDOW), before(SESSION_IDLE)).await {
        Ok(0) => {}
        Ok(forgotten) => tracing::debug!(forgotten, "forgot ended dashboard sessions, links and failed sign-ins"),
        Err(error) => tracing::error!(%error, "dashboard sweep failed"),
    }
}

async fn expire(state: &AppState) {
    match crate::flow::expire_due_payments(state).await {
        Ok(0) => {}
        Ok(expired) => tracing::info!(expired, "expired payments"),
        Err(error) => tracing::error!(%error, "expiry sweep failed"),
    }
}

async fn poll_attempts(state: &AppState) {
    match crate::flow::poll_due_attempts(state).await {
        Ok(0) => {}
        Ok(settled) => tracing::info!(settled, "settled pending attempts"),
        Err(error) => tracing::error!(%error, "poll sweep failed"),
    }
}

async fn poll_refunds(state: &AppState) {
    match crate::flow::poll_due_refunds(state).await {
        Ok(0) => {}
        Ok(settled) => tracing::info!(settled, "settled pending refunds"),
        Err(error) => tracing::error!(%error, "refund poll sweep failed"),
    }
}
