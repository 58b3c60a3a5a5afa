//! What the simulator tests share: a simulator on port 0 driven by the real `simulator`
//! connector, and a gateway stand-in that receives and verifies its callbacks.

#![allow(dead_code)] // each test file uses its own part of this

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use gatepost_acquirer_sim::{RunningSim, SimOptions};
use gatepost_connectors::simulator::protocol::CALLBACK_PATH;
use gatepost_connectors::simulator::{Simulator, SimulatorSettings};
use gatepost_connectors::{Authorization, AuthorizeRequest, Callback, Connector, Outcome, RefundAnswer, RefundRequest};
use gatepost_core::card::Card;
use gatepost_core::ids::{AttemptId, PaymentId, RefundId};
use gatepost_core::money::Currency;
use gatepost_core::payment::CaptureMode;
use gatepost_core::time::{Clock as _, SystemClock};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) const SECRET: &str = "shared-secret";
/// Short, so tests are quick; long enough that an answer given at once is surely early.
pub(crate) const DELAY: Duration = Duration::from_millis(150);
pub(crate) const AMOUNT: i64 = 1000;

pub(crate) const APPROVED: &str = "4242424242424242";
pub(crate) const ASYNC_APPROVED: &str = "4000000000000077";
pub(crate) const ASYNC_DECLINED: &str = "4000000000000085";

/// A running simulator, the connector that talks to it, and the receiver of its callbacks.
pub(crate) struct TestSim {
    pub(crate) sim: RunningSim,
    pub(crate) connector: Simulator,
    pub(crate) receiver: Receiver,
}

/// Starts a receiver and a simulator calling it back, with `configure` applied to the
/// simulator's options (which start well behaved, with a [`DELAY`] callback delay).
pub(crate) async fn spawn_sim(configure: impl FnOnce(&mut SimOptions)) -> TestSim {
    spawn_sim_calling(Receiver::start(0).await, configure).await
}

/// As [`spawn_sim`], calling back `receiver`.
pub(crate) async fn spawn_sim_calling(receiver: Receiver, configure: impl FnOnce(&mut SimOptions)) -> TestSim {
    install_crypto_provider();
    let mut options = SimOptions::well_behaved(localhost(), &receiver.url, SECRET, DELAY);
    configure(&mut options);
    let sim = gatepost_acquirer_sim::start(options).await.expect("the simulator starts");
    let connector = connector(&format!("http://{}", sim.addr), SECRET, Duration::from_secs(5));
    TestSim { sim, connector, receiver }
}

pub(crate) fn localhost() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// The libraries leave the choice of TLS provider to the process; each test is one.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub(crate) fn connector(url: &str, secret: &str, timeout: Duration) -> Simulator {
    install_crypto_provider();
    Simulator::new(SimulatorSettings {
        url: url.to_owned(),
        secret: secret.to_owned(),
        poll_after: Duration::from_millis(100),
        timeout,
    })
}

pub(crate) fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

/// Authorizes `number` for a new attempt.
pub(crate) async fn authorize(
    connector: &Simulator,
    number: &str,
    capture: CaptureMode,
) -> (AttemptId, Result<Authorization, gatepost_connectors::ConnectorError>) {
    let attempt_id = AttemptId::generate();
    let answer = authorize_attempt(connector, &attempt_id, number, capture).await;
    (attempt_id, answer)
}

pub(crate) async fn authorize_attempt(
    connector: &Simulator,
    attempt_id: &AttemptId,
    number: &str,
    capture: CaptureMode,
) -> Result<Authorization, gatepost_connectors::ConnectorError> {
    let card = Card::parse(number, "12/40", "123", (2026, 1)).expect("a valid test card");
    let payment_id = PaymentId::generate();
    let request =
        AuthorizeRequest { payment_id: &payment_id, attempt_id, amount: AMOUNT, currency: eur(), capture, card: &card };
    connector.authorize(&request).await
}

/// Authorizes `number` and expects an answer.
pub(crate) async fn authorized(connector: &Simulator, number: &str, capture: CaptureMode) -> Authorization {
    authorize(connector, number, capture).await.1.expect("the simulator answers")
}

pub(crate) async fn refund(
    connector: &Simulator,
    refund_id: &RefundId,
    authorization: &str,
    amount: i64,
) -> RefundAnswer {
    let payment_id = PaymentId::generate();
    let request = RefundRequest { refund_id, payment_id: &payment_id, authorization, amount, currency: eur() };
    connector.refund(&request).await.expect("the simulator answers")
}

/// Polls until the attempt is no longer pending.
pub(crate) async fn settled(connector: &Simulator, reference: &str) -> Outcome {
    for _ in 0..250 {
        let outcome = connector.poll(reference).await.expect("the simulator answers");
        if outcome != Outcome::Pending {
            return outcome;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{reference} is still pending after 5 s")
}

pub(crate) fn code(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Declined { code, .. } | Outcome::Error { code, .. } => code,
        _ => "",
    }
}

/// The gateway's side of callbacks: verifies each with the connector's `parse_callback`,
/// answers 401 to what does not verify, and records what does.
pub(crate) struct Receiver {
    pub(crate) url: String,
    state: Arc<ReceiverState>,
}

struct ReceiverState {
    verifier: Simulator,
    accepted: Mutex<Vec<Callback>>,
    refused: AtomicUsize,
    /// How many callbacks to answer 500 before accepting any, to make the simulator retry.
    fail_first: AtomicUsize,
    posts: AtomicUsize,
}

impl Receiver {
    /// A receiver that answers 500 to the first `fail_first` callbacks.
    pub(crate) async fn start(fail_first: usize) -> Self {
        let state = Arc::new(ReceiverState {
            verifier: connector("http://127.0.0.1:9", SECRET, Duration::from_secs(1)),
            accepted: Mutex::default(),
            refused: AtomicUsize::new(0),
            fail_first: AtomicUsize::new(fail_first),
            posts: AtomicUsize::new(0),
        });
        let app = Router::new().route(CALLBACK_PATH, post(receive)).with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind(localhost()).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, state }
    }

    pub(crate) fn accepted(&self) -> Vec<Callback> {
        self.state.accepted.lock().unwrap().clone()
    }

    pub(crate) fn refused(&self) -> usize {
        self.state.refused.load(Ordering::SeqCst)
    }

    /// Every POST, accepted, refused or failed on purpose.
    pub(crate) fn posts(&self) -> usize {
        self.state.posts.load(Ordering::SeqCst)
    }

    /// Waits until `count` callbacks were accepted, then returns them.
    pub(crate) async fn wait_for(&self, count: usize) -> Vec<Callback> {
        for _ in 0..500 {
            let accepted = self.accepted();
            if accepted.len() >= count {
                return accepted;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("expected {count} callbacks within 5 s, got {:?}", self.accepted())
    }

    /// Waits long enough for anything still coming to arrive, then returns all that came.
    pub(crate) async fn settle_down(&self) -> Vec<Callback> {
        tokio::time::sleep(DELAY * 3).await;
        self.accepted()
    }
}

async fn receive(State(state): State<Arc<ReceiverState>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    state.posts.fetch_add(1, Ordering::SeqCst);
    let failing = state.fail_first.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    if failing {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    match state.verifier.parse_callback(&headers, &body, SystemClock.now()) {
        Ok(callback) => {
            state.accepted.lock().unwrap().push(callback);
            StatusCode::OK
        }
        Err(_) => {
            state.refused.fetch_add(1, Ordering::SeqCst);
            StatusCode::UNAUTHORIZED
        }
    }
}
