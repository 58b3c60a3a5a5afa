//! `gatepost acquirer-sim`: an asynchronous acquirer in its own process, reached over HTTP by
//! the `simulator` connector (docs/reference/connectors.md#simulator). It answers by test card
//! like the sandbox (docs/reference/connectors.md#test-cards), reports late results with
//! signed callbacks to `{gateway-url}/callbacks/simulator` (docs/reference/callbacks.md), and
//! misbehaves on request, so the gateway's callback and polling paths are exercised across a
//! real network hop.
//!
//! The protocol it speaks is defined once, in `gatepost_connectors::simulator::protocol`.
//! Its books live in memory: a restart forgets every authorization.
//!
//! # Layout
//! - [`start`] / [`RunningSim`]: the lifecycle; [`SimOptions`]: the command-line flags.
//! - `routes`: the HTTP API and the signature check.
//! - `state`: authorizations and refunds, idempotent by gatepost's ids.
//! - `callbacks`: late results, delayed, dropped, duplicated or reordered as asked.
//! - `hostility`: the seeded dice and `--fail-requests`.

mod callbacks;
mod hostility;
mod routes;
mod state;

use callbacks::{Callbacks, Manners};
use gatepost_connectors::simulator::protocol::{CALLBACK_PATH, SharedSecret};
use hostility::Dice;
use state::Ledger;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How the simulator runs and misbehaves: the flags of `gatepost acquirer-sim`
/// (docs/reference/connectors.md#simulator).
#[derive(Clone)]
pub struct SimOptions {
    pub listen: SocketAddr,
    /// The gateway's base URL; callbacks go to `{gateway_url}/callbacks/simulator`.
    pub gateway_url: String,
    /// Signs callbacks and verifies the gateway's requests.
    pub secret: String,
    /// When pending authorizations and refunds settle and are called back.
    pub callback_delay: Duration,
    /// Extra copies of each callback, with the same event id; one of them sent concurrently.
    pub duplicate_callbacks: u32,
    /// After each result, also send a stale `pending` with a new event id.
    pub reorder: bool,
    /// Probability (0 to 1) of never calling back about a result: the gateway must poll.
    pub drop_callbacks: f64,
    /// Probability (0 to 1) of failing a request with 503 or by holding it, before any effect.
    pub fail_requests: f64,
    /// Makes the random choices reproducible.
    pub seed: Option<u64>,
}

impl std::fmt::Debug for SimOptions {
    // Secrets never reach logs (docs/reference/urls.md#secrets-and-keys).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimOptions")
            .field("listen", &self.listen)
            .field("gateway_url", &self.gateway_url)
            .field("secret", &"…")
            .field("callback_delay", &self.callback_delay)
            .field("duplicate_callbacks", &self.duplicate_callbacks)
            .field("reorder", &self.reorder)
            .field("drop_callbacks", &self.drop_callbacks)
            .field("fail_requests", &self.fail_requests)
            .field("seed", &self.seed)
            .finish()
    }
}

impl SimOptions {
    /// Options that misbehave in no way: nothing dropped, duplicated, reordered or failed.
    #[must_use]
    pub fn well_behaved(listen: SocketAddr, gateway_url: &str, secret: &str, callback_delay: Duration) -> Self {
        Self {
            listen,
            gateway_url: gateway_url.to_owned(),
            secret: secret.to_owned(),
            callback_delay,
            duplicate_callbacks: 0,
            reorder: false,
            drop_callbacks: 0.0,
            fail_requests: 0.0,
            seed: None,
        }
    }

    /// Refuses values that cannot work, with a message naming the flag. [`start`] checks
    /// its options with it; the command line parses flags and leaves the rules to it.
    ///
    /// # Errors
    /// A one-line message naming the flag whose value cannot work.
    pub fn check(&self) -> Result<(), String> {
        match reqwest::Url::parse(&self.gateway_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
            _ => return Err(format!("--gateway-url: {:?} is not an http(s) URL", self.gateway_url)),
        }
        if self.secret.is_empty() {
            return Err("--secret: must not be empty".to_owned());
        }
        for (flag, probability) in [("--drop-callbacks", self.drop_callbacks), ("--fail-requests", self.fail_requests)]
        {
            if !(0.0..=1.0).contains(&probability) {
                return Err(format!("{flag}: {probability} is not a probability between 0 and 1"));
            }
        }
        Ok(())
    }
}

/// What every request handler shares.
#[derive(Debug)]
struct Sim {
    ledger: Ledger,
    secret: SharedSecret,
    callbacks: Arc<Callbacks>,
    dice: Arc<Dice>,
    fail_requests: f64,
    /// Turns true on shutdown: held requests and waiting callbacks give up.
    stop: watch::Receiver<bool>,
}

/// A simulator serving HTTP until [`RunningSim::shutdown`] (or until it is dropped).
#[derive(Debug)]
pub struct RunningSim {
    pub addr: SocketAddr,
    /// Where callbacks go: `{gateway_url}/callbacks/simulator`.
    pub callback_url: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<io::Result<()>>,
}

/// Binds `options.listen` and serves in the background of the current tokio runtime.
pub async fn start(options: SimOptions) -> io::Result<RunningSim> {
    options.check().map_err(|message| io::Error::new(io::ErrorKind::InvalidInput, message))?;
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {}: {e}", options.listen)))?;
    let addr = listener.local_addr()?;
    let callback_url = format!("{}{CALLBACK_PATH}", options.gateway_url.trim_end_matches('/'));
    let (stop, stopped) = watch::channel(false);
    let secret = SharedSecret::new(&options.secret);
    let dice = Arc::new(Dice::new(options.seed));
    let manners =
        Manners { duplicates: options.duplicate_callbacks, reorder: options.reorder, drop: options.drop_callbacks };
    let callbacks = Callbacks::new(callback_url.clone(), secret.clone(), manners, Arc::clone(&dice), stopped.clone());
    let sim = Arc::new(Sim {
        ledger: Ledger::new(options.callback_delay),
        secret,
        callbacks: Arc::new(callbacks),
        dice,
        fail_requests: options.fail_requests,
        stop: stopped.clone(),
    });
    let app = routes::router(sim);
    let mut stopped = stopped;
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await
    });
    Ok(RunningSim { addr, callback_url, stop, task })
}

impl RunningSim {
    /// Stops accepting requests, lets in-flight ones finish and abandons unsent callbacks.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "the simulator stopped with an error"),
            Err(error) => tracing::warn!(%error, "the simulator task failed"),
        }
    }
}

/// Seconds since the Unix epoch: what signatures are stamped with.
fn unix_now() -> i64 {
    use gatepost_core::time::Clock as _;
    gatepost_core::time::SystemClock.now().unix_seconds()
}
