//! A running gateway with a merchant on it, and the merchant's side of the API.

use crate::database::{Backend, TestDatabase};
use gatepost::Server;
use gatepost::config::Config;
use gatepost::merchants::create_merchant;
use gatepost_core::time::{Clock, ManualClock, SystemClock};
use gatepost_core::urls::Mode;
use gatepost_store::Store;
use serde_json::Value;
use std::sync::Arc;

/// A manual clock that starts at the real time, so timestamps still look current.
pub fn test_clock() -> ManualClock {
    ManualClock::starting_at(SystemClock.now())
}

/// A client that does not follow redirects, so tests see the gateway's own answers.
pub fn http() -> reqwest::Client {
    gatepost::install_crypto_provider();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A merchant's credentials as `merchant create --json` prints them.
#[derive(Clone, Debug)]
pub struct TestMerchant {
    pub id: String,
    pub api_key: String,
    pub webhook_secret: String,
}

/// A running gateway, a merchant on it, and a client.
pub struct TestApp {
    pub base_url: String,
    pub http: reqwest::Client,
    pub merchant: TestMerchant,
    pub store: Arc<dyn Store>,
    config: Config,
    clock: Arc<dyn Clock>,
    server: Option<Server>,
    _database: TestDatabase,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        let database = TestDatabase::new(backend).await;
        Self::spawn_with(Self::config(&database), database, Arc::new(SystemClock)).await
    }

    /// A gateway with a configuration adjusted by `adjust`.
    pub async fn spawn_configured(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let database = TestDatabase::new(backend).await;
        let mut config = Self::config(&database);
        adjust(&mut config);
        Self::spawn_with(config, database, Arc::new(SystemClock)).await
    }

    /// A gateway whose clock only moves when the test says so.
    pub async fn spawn_with_clock(backend: Backend, clock: ManualClock) -> Self {
        let database = TestDatabase::new(backend).await;
        Self::spawn_with(Self::config(&database), database, Arc::new(clock)).await
    }

    /// The configuration tests start from: port 0, quick async settlement.
    pub fn config(database: &TestDatabase) -> Config {
        let mut config = Config::with_database(&database.url);
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.sandbox.async_delay = std::time::Duration::from_millis(200);
        config
    }

    pub async fn spawn_with(config: Config, database: TestDatabase, clock: Arc<dyn Clock>) -> Self {
        let server = Server::start_with_clock(&config, clock.clone()).await.expect("server starts");
        let store = gatepost::open_store(&config).await.expect("store opens");
        let http = http();
        let mut app = Self {
            base_url: format!("http://{}", server.addr),
            http,
            merchant: TestMerchant { id: String::new(), api_key: String::new(), webhook_secret: String::new() },
            store,
            config,
            clock,
            server: Some(server),
            _database: database,
        };
        app.merchant = app.create_merchant("Test Shop").await;
        app
    }

    /// Another merchant on the same gateway.
    pub async fn create_merchant(&self, name: &str) -> TestMerchant {
        let created =
            create_merchant(self.store.as_ref(), Mode::Sandbox, name, None, "sandbox").await.expect("merchant created");
        TestMerchant { id: created.id, api_key: created.api_key, webhook_secret: created.webhook_secret }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A POST with raw body bytes, as the merchant.
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.post_as(&self.merchant.api_key, path, body, None).await
    }

    pub async fn post_as(
        &self,
        api_key: &str,
        path: &str,
        body: impl Into<reqwest::Body>,
        idempotency_key: Option<&str>,
    ) -> reqwest::Response {
        let mut request =
            self.http.post(self.url(path)).bearer_auth(api_key).header("content-type", "application/json").body(body);
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        request.send().await.expect("request sent")
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.post_raw(path, body.to_string()).await
    }

    pub async fn get_as(&self, api_key: &str, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).bearer_auth(api_key).send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.get_as(&self.merchant.api_key, path).await
    }

    /// Creates a payment that must succeed, and returns its JSON.
    pub async fn create_payment(&self, body: &Value) -> Value {
        let response = self.post_json("/v1/payments", body).await;
        assert_eq!(response.status(), 201, "create payment");
        response.json().await.unwrap()
    }

    pub async fn list_payments(&self, query: &str) -> Value {
        let response = self.get(&format!("/v1/payments{query}")).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Stops the server and starts a new one on the same database and clock.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut config = self.config.clone();
        config.listen = "127.0.0.1:0".parse().unwrap();
        let server = Server::start_with_clock(&config, self.clock.clone()).await.expect("server restarts");
        self.base_url = format!("http://{}", server.addr);
        self.server = Some(server);
    }

    /// The payment as the API shows it to the merchant.
    pub async fn payment_json(&self, id: &str) -> Value {
        self.get(&format!("/v1/payments/{id}")).await.json().await.unwrap()
    }

    /// Polls the payment until `done` holds for it, for at most ten seconds.
    pub async fn wait_for_payment(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..100 {
            let payment = self.payment_json(id).await;
            if done(&payment) {
                return payment;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("payment {id}: {what} did not happen within 10 s: {}", self.payment_json(id).await);
    }

    /// Stops the server gracefully.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await.expect("clean shutdown");
        }
    }
}

/// Status and parsed problem body of an error response, checking its content type.
pub async fn problem(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/problem+json", "status {status}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert_eq!(body["type"], format!("/errors/{}", body["code"].as_str().unwrap()));
    (status, body)
}
