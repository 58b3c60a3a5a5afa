//! Work that runs on a timer in every gateway process: expiring payments, polling
//! pending attempts, and forgetting idempotency keys after 24 hours. The database says
//! what is due, so several processes, restarts and crashes lose nothing; doing an item
//! twice is harmless (the status machine ignores the second).

use crate::AppState;
use std::time::Duration;
use tokio::sync::watch;

/// How often the sweeps run: `OPEN` payments expire within this of `expires_at` (SPEC §3
/// asks for 5 seconds).
const TICK: Duration = Duration::from_secs(1);

/// Idempotency keys are forgotten once a minute: each sweep is a write.
const TICKS_PER_KEY_SWEEP: u32 = 60;

/// Runs the sweeps until `stop` turns true.
pub async fn run_sweeps(state: AppState, mut stop: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut count = 0u32;
    while !*stop.borrow() {
        tokio::select! {
            _ = ticks.tick() => {
                sweep(&state).await;
                count = (count + 1) % TICKS_PER_KEY_SWEEP;
                if count == 1 {
                    forget_expired_keys(&state).await;
                }
            }
            changed = stop.changed() => if changed.is_err() { return },
        }
    }
}

/// Idempotency keys are replayed for 24 hours (SPEC §2), then removed.
async fn forget_expired_keys(state: &AppState) {
    match state.store().forget_expired_idempotency_keys(state.clock().now()).await {
        Ok(0) => {}
        Ok(forgotten) => tracing::info!(forgotten, "forgot expired idempotency keys"),
        Err(error) => tracing::error!(%error, "idempotency key sweep failed"),
    }
}

async fn sweep(state: &AppState) {
    match crate::flow::expire_due_payments(state).await {
        Ok(0) => {}
        Ok(expired) => tracing::info!(expired, "expired payments"),
        Err(error) => tracing::error!(%error, "expiry sweep failed"),
    }
    match crate::flow::poll_due_attempts(state).await {
        Ok(0) => {}
        Ok(settled) => tracing::info!(settled, "settled pending attempts"),
        Err(error) => tracing::error!(%error, "poll sweep failed"),
    }
    match crate::flow::poll_due_refunds(state).await {
        Ok(0) => {}
        Ok(settled) => tracing::info!(settled, "settled pending refunds"),
        Err(error) => tracing::error!(%error, "refund poll sweep failed"),
    }
}
