//! The simulator's bad manners, chosen by dice that `--seed` makes reproducible:
//! `--fail-requests` here; the callback ones (`--drop-callbacks` and the others) in
//! [`crate::callbacks`].

use crate::Sim;
use crate::routes::SimError;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Of the requests that fail, the share held open instead of answered at once: a client
/// must survive an acquirer that hangs, not only one that says 503.
const HELD_SHARE: f64 = 0.25;
/// A held request is answered 503 after this at the latest, so nothing hangs for ever.
const HOLD_AT_MOST: Duration = Duration::from_secs(30);

/// One random source for every choice, so that a seed replays a run's choices.
#[derive(Debug)]
pub(crate) struct Dice(Mutex<StdRng>);

impl Dice {
    pub(crate) fn new(seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => rand::make_rng(),
        };
        Self(Mutex::new(rng))
    }

    /// True with `probability` (0 never, 1 always).
    pub(crate) fn happens(&self, probability: f64) -> bool {
        probability > 0.0 && self.0.lock().unwrap_or_else(PoisonError::into_inner).random_bool(probability.min(1.0))
    }
}

/// Fails a share of the gateway's requests (`--fail-requests`) before anything else looks at
/// them, so a failed request never has an effect: retrying it is always safe.
pub(crate) async fn fail_some(State(sim): State<Arc<Sim>>, request: Request, next: Next) -> Response {
    if !sim.dice.happens(sim.fail_requests) {
        return next.run(request).await;
    }
    if sim.dice.happens(HELD_SHARE) {
        tracing::info!(path = request.uri().path(), "holding a request, as --fail-requests asks");
        let mut stopped = sim.stop.clone();
        tokio::select! {
            () = tokio::time::sleep(HOLD_AT_MOST) => {}
            _ = stopped.wait_for(|stop| *stop) => {}
        }
    } else {
        tracing::info!(path = request.uri().path(), "failing a request, as --fail-requests asks");
    }
    SimError::Unavailable.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_choices() {
        let rolls = |dice: &Dice| (0..64).map(|_| dice.happens(0.5)).collect::<Vec<_>>();
        assert_eq!(rolls(&Dice::new(Some(7))), rolls(&Dice::new(Some(7))));
        assert_ne!(rolls(&Dice::new(Some(7))), rolls(&Dice::new(Some(8))));
    }

    #[test]
    fn certain_and_impossible_events_are_exactly_that() {
        let dice = Dice::new(None);
        assert!((0..100).all(|_| dice.happens(1.0)));
        assert!((0..100).all(|_| !dice.happens(0.0)));
    }
}
