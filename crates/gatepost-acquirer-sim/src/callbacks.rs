//! Callbacks to the gateway (docs/reference/callbacks.md#callbacks), sent the way an
//! unreliable acquirer sends them: late (`--callback-delay`), sometimes never
//! (`--drop-callbacks`), several times and at the same time (`--duplicate-callbacks`), and
//! followed by a stale `pending` (`--reorder`).

use crate::hostility::Dice;
use crate::state::Settlement;
use gatepost_connectors::simulator::protocol::{
    CALLBACK_PATH, CallbackAbout, CallbackBody, SIGNATURE_HEADER, SharedSecret,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Sends of one callback when the gateway fails or cannot be reached; bounded, because a
/// gateway that never answers must not keep the simulator busy for ever. It still polls.
const TRIES: u32 = 5;
/// The pause before the second send, doubled before each next one (about 3 s in all).
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// How long one send may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How callbacks are sent, from the command-line flags.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Manners {
    /// Extra copies of each callback, with the same event id.
    pub(crate) duplicates: u32,
    /// After the result, send a stale `pending` with a new event id.
    pub(crate) reorder: bool,
    /// The probability of never calling back at all.
    pub(crate) drop: f64,
}

#[derive(Debug)]
pub(crate) struct Callbacks {
    http: reqwest::Client,
    /// `{gateway-url}/callbacks/simulator`.
    url: String,
    secret: SharedSecret,
    manners: Manners,
    dice: Arc<Dice>,
    stop: watch::Receiver<bool>,
}

impl Callbacks {
    pub(crate) fn new(
        url: String,
        secret: SharedSecret,
        manners: Manners,
        dice: Arc<Dice>,
        stop: watch::Receiver<bool>,
    ) -> Self {
        let http = reqwest::Client::builder()
            .user_agent(concat!("gatepost-acquirer-sim/", env!("CARGO_PKG_VERSION")))
            .timeout(SEND_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the callback client settings are valid");
        Self { http, url, secret, manners, dice, stop }
    }

    /// Reports `settlement` when it is due, in the background. Whether it is dropped is
    /// decided now, in request order, so that a seed replays the same choices.
    pub(crate) fn schedule(self: &Arc<Self>, settlement: Settlement) {
        let dropped = self.dice.happens(self.manners.drop);
        let callbacks = Arc::clone(self);
        tokio::spawn(async move {
            let mut stopped = callbacks.stop.clone();
            tokio::select! {
                () = callbacks.report(settlement, dropped) => {}
                _ = stopped.wait_for(|stop| *stop) => {}
            }
        });
    }

    async fn report(&self, settlement: Settlement, dropped: bool) {
        tokio::time::sleep_until(settlement.at).await;
        if dropped {
            tracing::info!(reference = reference(&settlement.result), "not calling back, as --drop-callbacks asks");
            return;
        }
        let result = body(settlement.result);
        match self.manners.duplicates {
            0 => self.send(&result).await,
            duplicates => {
                // The first copy races the original, so the gateway meets two at the same time.
                tokio::join!(self.send(&result), self.send(&result));
                for _ in 1..duplicates {
                    self.send(&result).await;
                }
            }
        }
        if self.manners.reorder {
            self.send(&body(settlement.stale)).await;
        }
    }

    /// POSTs one callback, signed afresh for each try, until the gateway answers 2xx.
    #[tracing::instrument(skip_all, fields(event_id = %callback.id, reference = reference(&callback.about)))]
    async fn send(&self, callback: &CallbackBody) {
        let bytes = serde_json::to_vec(callback).expect("wire types serialize");
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=TRIES {
            let signature = self.secret.sign(crate::unix_now(), "POST", CALLBACK_PATH, &bytes);
            let sent = self
                .http
                .post(&self.url)
                .header(SIGNATURE_HEADER, signature)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes.clone())
                .send()
                .await;
            match sent {
                Ok(response) if response.status().is_success() => {
                    tracing::debug!(attempt, "callback delivered");
                    return;
                }
                Ok(response) => tracing::warn!(attempt, status = %response.status(), "the gateway refused a callback"),
                Err(error) => tracing::warn!(attempt, %error, "a callback did not reach the gateway"),
            }
            if attempt < TRIES {
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
        }
        tracing::warn!("giving up on a callback; the gateway has to poll");
    }
}

/// A callback with a new event id: ids are unique per subject and status, and only copies
/// of one callback share one.
fn body(about: CallbackAbout) -> CallbackBody {
    CallbackBody { id: format!("simevt_{}", gatepost_core::ids::random_token(12)), about }
}

fn reference(about: &CallbackAbout) -> &str {
    match about {
        CallbackAbout::Authorization { reference, .. } | CallbackAbout::Refund { reference, .. } => reference,
    }
}
