//! Starts `gatepost serve` and `gatepost acquirer-sim` as two processes wired to each other
//! (docs/reference/connectors.md#simulator), a merchant on the simulator whose webhooks go
//! to a [`Receiver`], and offers what scenarios do and check: pay as a shopper, call the
//! API as the merchant, sign callbacks as the acquirer.

use super::relay::Relay;
use super::watch::StatusWatch;
use crate::checkout::{Checkout, Page, card_form};
use crate::cli::{ServeProcess, gatepost, run, serve_with};
use gatepost_connectors::simulator::protocol::{CALLBACK_PATH, SIGNATURE_HEADER, SharedSecret};
use gatepost_core::ids::{MerchantId, PaymentId};
use gatepost_core::payment::Attempt;
use gatepost_core::signing::WebhookSecret;
use gatepost_testkit::receiver::Receiver;
use gatepost_testkit::{Backend, TestDatabase};
use serde_json::{Value, json};
use std::collections::{HashSet, VecDeque};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::Child;

/// The secret the simulator and the gateway share (`--secret`, `connectors.simulator.secret`).
pub const SECRET: &str = "e2e-shared-secret";
/// How long every wait of these scenarios may take: generous for a loaded CI machine, short
/// enough that a lost result fails the test rather than the run.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// How a world is started: the simulator's flags and the gateway's first poll delay.
pub struct Setup {
    backend: Backend,
    sim_flags: Vec<String>,
    poll_after: &'static str,
    connector: &'static str,
}

impl Setup {
    /// Extra `acquirer-sim` flags; `--callback-delay` is `200ms` unless given here.
    pub fn sim(mut self, flags: &[&str]) -> Self {
        self.sim_flags.extend(flags.iter().map(|f| (*f).to_owned()));
        self
    }

    /// `GATEPOST_CONNECTORS__POLL_AFTER`; `30s` (the default) unless given, so that only
    /// callbacks settle payments within a test's time.
    pub fn poll_after(mut self, delay: &'static str) -> Self {
        self.poll_after = delay;
        self
    }

    /// The connector the merchant is created with (`simulator` unless given).
    pub fn connector(mut self, connector: &'static str) -> Self {
        self.connector = connector;
        self
    }

    pub async fn start(self) -> World {
        let database = TestDatabase::new(self.backend).await;
        let receiver = Receiver::start().await;
        let logs = Logs::default();
        let mut sim_flags = self.sim_flags.clone();
        if !sim_flags.iter().any(|f| f == "--callback-delay") {
            sim_flags.extend(["--callback-delay".to_owned(), "200ms".to_owned()]);
        }
        // Each process is given the other's relay, which starts first and learns where to
        // pass requests on once that process has said where it listens.
        let requests = Relay::start().await;
        let env = [
            ("GATEPOST_CONNECTORS__SIMULATOR__URL", requests.url.as_str()),
            ("GATEPOST_CONNECTORS__SIMULATOR__SECRET", SECRET),
            ("GATEPOST_CONNECTORS__POLL_AFTER", self.poll_after),
            ("GATEPOST_LOG", "info"),
        ];
        let mut gateway = serve_with(&database.url, &env, Stdio::piped()).await;
        logs.drain("gateway", gateway.child.stderr.take().unwrap());
        let callbacks = Relay::start().await;
        callbacks.forward_to(&gateway.base_url);
        let mut args =
            vec!["acquirer-sim", "--listen", "127.0.0.1:0", "--gateway-url", &callbacks.url, "--secret", SECRET];
        args.extend(sim_flags.iter().map(String::as_str));
        let (sim, sim_url) = start_sim(&args, &logs).await;
        requests.forward_to(&sim_url);
        let merchant = create_merchant(&database.url, &receiver.url, self.connector).await;
        World {
            http: gatepost_testkit::http(),
            gateway,
            sim_url,
            callbacks,
            requests,
            receiver,
            merchant,
            database,
            _sim: sim,
            logs,
        }
    }
}

/// `gatepost acquirer-sim ARGS` and its base URL, once it says where it listens.
async fn start_sim(args: &[&str], logs: &Logs) -> (Child, String) {
    let mut sim = gatepost(args, &[("GATEPOST_LOG", "info")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("acquirer-sim starts");
    logs.drain("sim", sim.stderr.take().unwrap());
    let mut lines = BufReader::new(sim.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(PATIENCE, lines.next_line()).await.expect("acquirer-sim answers").unwrap();
    let first = first.unwrap_or_else(|| panic!("acquirer-sim stopped:\n{}", logs.text()));
    // "acquirer-sim listening on http://127.0.0.1:P, calling back …"
    let url = first
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .trim_end_matches(',')
        .to_owned();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (sim, url)
}

/// A merchant's credentials, from `merchant create --json`.
pub struct Merchant {
    pub id: String,
    pub api_key: String,
    pub webhook_secret: String,
}

async fn create_merchant(database_url: &str, webhook_url: &str, connector: &str) -> Merchant {
    let args = [
        "merchant",
        "create",
        "--name",
        "Simulated Shop",
        "--connector",
        connector,
        "--webhook-url",
        webhook_url,
        "--json",
        "--database",
        database_url,
    ];
    let output = run(&args, &[]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let created: Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = |name: &str| created[name].as_str().unwrap().to_owned();
    Merchant { id: text("id"), api_key: text("api_key"), webhook_secret: text("webhook_secret") }
}

/// The last lines both processes logged, shown when a scenario fails.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<VecDeque<String>>>);

impl Logs {
    const KEPT: usize = 400;

    fn drain(&self, name: &'static str, stream: impl AsyncRead + Unpin + Send + 'static) {
        let logs = self.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut kept = logs.0.lock().unwrap();
                if kept.len() == Self::KEPT {
                    kept.pop_front();
                }
                kept.push_back(format!("[{name}] {line}"));
            }
        });
    }

    fn text(&self) -> String {
        self.0.lock().unwrap().iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

/// The gateway, the simulator, the relays between them, and a merchant with its receiver.
pub struct World {
    pub http: reqwest::Client,
    pub gateway: ServeProcess,
    /// Where `acquirer-sim` listens.
    pub sim_url: String,
    /// The simulator's callbacks to the gateway.
    pub callbacks: Relay,
    /// The gateway's requests to the simulator.
    pub requests: Relay,
    pub receiver: Receiver,
    pub merchant: Merchant,
    database: TestDatabase,
    _sim: Child,
    logs: Logs,
}

impl Drop for World {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- last log lines of the gateway and the simulator ---\n{}", self.logs.text());
        }
    }
}

impl World {
    /// A world on `backend`: a well-behaved simulator that calls back after 200 ms, and a
    /// gateway that polls after 30 s.
    pub fn on(backend: Backend) -> Setup {
        Setup { backend, sim_flags: Vec::new(), poll_after: "30s", connector: "simulator" }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway.base_url)
    }

    /// `POST path` with a JSON body, as the merchant.
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http.post(self.url(path)).bearer_auth(&self.merchant.api_key).json(body).send().await.unwrap()
    }

    pub async fn patch(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http.patch(self.url(path)).bearer_auth(&self.merchant.api_key).json(body).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.http.get(self.url(path)).bearer_auth(&self.merchant.api_key).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    pub async fn payment(&self, id: &str) -> Value {
        self.get_json(&format!("/v1/payments/{id}")).await
    }

    /// Creates a payment of 1000 EUR returning to `https://shop.example/return`, with `body`
    /// merged in, and returns it with its page.
    pub async fn checkout(&self, body: Value) -> Checkout {
        let mut payment = json!({"amount": 1000, "currency": "EUR", "return_url": "https://shop.example/return"});
        payment.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
        let response = self.post("/v1/payments", &payment).await;
        assert_eq!(response.status(), 201, "create payment");
        let created: Value = response.json().await.unwrap();
        let url = created["checkout_url"].as_str().unwrap();
        Checkout {
            payment_id: created["id"].as_str().unwrap().to_owned(),
            path: url.strip_prefix(&self.gateway.base_url).expect("checkout on this gateway").to_owned(),
        }
    }

    pub async fn page(&self, path: &str) -> Page {
        Page::from(self.http.get(self.url(path)).send().await.unwrap()).await
    }

    pub async fn submit(&self, path: &str, fields: &[(&str, String)]) -> reqwest::Response {
        self.http.post(self.url(path)).form(fields).send().await.unwrap()
    }

    /// Opens the payment page and pays with `card`, as a shopper's browser would.
    pub async fn pay(&self, checkout: &Checkout, card: &str) -> reqwest::Response {
        let form_token = self.page(&checkout.path).await.form_token();
        self.submit(&checkout.path, &card_form(&form_token, card)).await
    }

    /// A payment made and paid with `card`: its id, once the page has answered.
    pub async fn paid(&self, body: Value, card: &str) -> String {
        let checkout = self.checkout(body).await;
        let response = self.pay(&checkout, card).await;
        assert_eq!(response.status(), 303, "paid with {card}");
        checkout.payment_id
    }

    /// Polls the payment until `done` holds for it, for at most [`PATIENCE`].
    pub async fn wait_for_payment(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let payment = self.payment(id).await;
            if done(&payment) {
                return payment;
            }
            assert!(Instant::now() < deadline, "{id}: {what} did not happen within {PATIENCE:?}: {payment}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the payment to reach `status`.
    pub async fn settled(&self, id: &str, status: &str) -> Value {
        self.wait_for_payment(id, &format!("status {status}"), |p| p["status"] == status).await
    }

    /// Samples the payment's status until [`StatusWatch::finish`].
    pub fn watch(&self, id: &str) -> StatusWatch {
        let url = self.url(&format!("/v1/payments/{id}"));
        StatusWatch::start(self.http.clone(), url, self.merchant.api_key.clone(), id)
    }

    /// The payment's events, oldest first; their `sequence` must run 1, 2, 3…
    /// (docs/reference/webhooks.md#body).
    pub async fn events(&self, payment: &str) -> Vec<Value> {
        let listed = self.get_json(&format!("/v1/events?payment_id={payment}&limit=100")).await;
        let mut events = listed["data"].as_array().unwrap().clone();
        events.sort_by_key(|e| e["sequence"].as_i64());
        let sequences: Vec<i64> = events.iter().map(|e| e["sequence"].as_i64().unwrap()).collect();
        let expected: Vec<i64> = (1..=i64::try_from(events.len()).unwrap()).collect();
        assert_eq!(sequences, expected, "{payment}: one sequence number per event, without gaps");
        events
    }

    /// Checks that the payment's events are exactly `expected` (one per real status move),
    /// and that the merchant's receiver got each of them, correctly signed.
    pub async fn assert_events(&self, payment: &str, expected: &[&str]) -> Vec<Value> {
        let events = self.events(payment).await;
        let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, expected, "{payment}: events");
        self.assert_delivered(payment, &events).await;
        events
    }

    /// Waits until the receiver got every one of `events`; checks each delivery's signature
    /// and that nothing else about the payment was delivered.
    async fn assert_delivered(&self, payment: &str, events: &[Value]) {
        let ids: HashSet<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
        let deadline = Instant::now() + PATIENCE;
        let deliveries = loop {
            let deliveries: Vec<_> =
                self.receiver.received().into_iter().filter(|r| r.json()["data"]["id"] == payment).collect();
            let got: HashSet<&str> = deliveries.iter().map(|r| r.header("webhook-id")).collect();
            if ids.is_subset(&got) {
                break deliveries;
            }
            assert!(Instant::now() < deadline, "{payment}: webhooks {ids:?} expected, {got:?} arrived");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let secret = WebhookSecret::parse(&self.merchant.webhook_secret).unwrap();
        for delivery in &deliveries {
            let id = delivery.header("webhook-id");
            assert!(ids.contains(id), "{payment}: webhook {id} is not one of the payment's events");
            let timestamp = delivery.header("webhook-timestamp").parse().unwrap();
            let signature = delivery.header("webhook-signature");
            assert!(secret.verify_webhook(id, timestamp, &delivery.body, signature), "{id}: signature");
            let event = events.iter().find(|e| e["id"] == id).unwrap();
            let body = delivery.json();
            assert_eq!((&body["type"], &body["sequence"]), (&event["type"], &event["sequence"]), "{id}");
        }
    }

    /// The payment's attempt number `index` (from 0) as the gateway stored it, with what the
    /// API keeps to itself: its connector and the acquirer's reference.
    pub async fn stored_attempt(&self, payment: &str, index: usize) -> Attempt {
        let config = gatepost::config::Config::with_database(&self.database.url);
        let store = gatepost::open_store(&config).await.expect("the gateway's database opens");
        let merchant = MerchantId::parse(&self.merchant.id).unwrap();
        let payment = store.payment(&merchant, &PaymentId::parse(payment).unwrap()).await.unwrap();
        payment.expect("the payment is stored").attempts.swap_remove(index)
    }

    /// The acquirer's reference of the payment's attempt number `index`.
    pub async fn attempt_reference(&self, payment: &str, index: usize) -> String {
        let attempt = self.stored_attempt(payment, index).await;
        attempt.connector_reference.expect("the acquirer answered the attempt")
    }

    /// POSTs `body` to the gateway's `/callbacks/simulator` with `signature` (none if `None`).
    pub async fn callback(&self, body: &[u8], signature: Option<&str>) -> reqwest::Response {
        let mut request =
            self.http.post(self.url(CALLBACK_PATH)).header("content-type", "application/json").body(body.to_vec());
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        request.send().await.unwrap()
    }

    /// POSTs `body` to the simulator's `path`, signed as the gateway signs, and returns
    /// the answer's JSON.
    pub async fn sim_post(&self, path: &str, body: &Value) -> Value {
        let bytes = serde_json::to_vec(body).unwrap();
        let signature = sign(SECRET, unix_now(), path, &bytes);
        let response = self
            .http
            .post(format!("{}{path}", self.sim_url))
            .header(SIGNATURE_HEADER, signature)
            .header("content-type", "application/json")
            .body(bytes)
            .send()
            .await
            .unwrap();
        response.json().await.unwrap()
    }
}

/// A `gatepost-sim-signature` for a POST to `path` at `unix_seconds`, made with `secret`.
pub fn sign(secret: &str, unix_seconds: i64, path: &str, body: &[u8]) -> String {
    SharedSecret::new(secret).sign(unix_seconds, "POST", path, body)
}

pub fn unix_now() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// The attempts' statuses, oldest first.
pub fn attempt_statuses(payment: &Value) -> Vec<String> {
    payment["attempts"].as_array().unwrap().iter().map(|a| a["status"].as_str().unwrap().to_owned()).collect()
}
