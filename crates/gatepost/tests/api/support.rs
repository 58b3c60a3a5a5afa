//! The test harness: [`TestApp`] starts a gateway and talks to it like a merchant.

use gatepost::Server;
use gatepost::config::Config;
use gatepost::merchants::create_merchant;
use gatepost_core::time::{Clock, ManualClock, SystemClock};
use gatepost_core::urls::Mode;
use gatepost_store::Store;
use serde_json::Value;
use std::sync::Arc;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for each named scenario, e.g.
/// `on_both_backends!(cancel_twice_is_invalid_state)` makes
/// `sqlite::cancel_twice_is_invalid_state` and `postgres::cancel_twice_is_invalid_state`.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario($crate::support::TestApp::spawn($crate::support::Backend::Sqlite).await).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario($crate::support::TestApp::spawn($crate::support::Backend::Postgres).await).await;
            })*
        }
    };
}

/// As [`on_both_backends!`], for scenarios that move a [`ManualClock`]: each gets the
/// app and the clock it runs on.
#[macro_export]
macro_rules! on_both_backends_with_clock {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let clock = $crate::support::test_clock();
                let app = $crate::support::TestApp::spawn_with_clock($crate::support::Backend::Sqlite, clock.clone()).await;
                super::$scenario(app, clock).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let clock = $crate::support::test_clock();
                let app = $crate::support::TestApp::spawn_with_clock($crate::support::Backend::Postgres, clock.clone()).await;
                super::$scenario(app, clock).await;
            })*
        }
    };
}

/// As [`on_both_backends!`], for scenarios that start their own app: each gets the backend.
#[macro_export]
macro_rules! for_each_backend {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario($crate::support::Backend::Sqlite).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario($crate::support::Backend::Postgres).await;
            })*
        }
    };
}

/// A manual clock that starts at the real time, so timestamps still look current.
pub fn test_clock() -> ManualClock {
    ManualClock::starting_at(SystemClock.now())
}

/// A client that does not follow redirects, so tests see the gateway's own answers.
pub fn http() -> reqwest::Client {
    gatepost::install_crypto_provider();
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The PostgreSQL server tests use; `scripts/test` makes sure it runs.
pub fn postgres_url() -> String {
    std::env::var("GATEPOST_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A fresh, empty database for one test: its URL and what keeps it alive.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("gatepost.db").display());
                Self { url, _dir: Some(dir) }
            }
            Backend::Postgres => Self { url: fresh_postgres_schema().await, _dir: None },
        }
    }
}

/// Creates a schema of its own and returns a URL whose connections use it. Schemas of
/// earlier runs are dropped once they are an hour old.
async fn fresh_postgres_schema() -> String {
    let base = postgres_url();
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {base} is not reachable (run scripts/test): {e}"));
    tokio::spawn(connection);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let stale = client
        .query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'gp_test_%'", &[])
        .await
        .expect("list schemas");
    for row in stale {
        let name: String = row.get(0);
        let created: u64 = name.split('_').nth(2).and_then(|t| t.parse().ok()).unwrap_or(now);
        if created + 3600 < now {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE")).await;
        }
    }
    let schema =
        format!("gp_test_{now}_{}", gatepost_core::ids::random_token(6).to_lowercase().replace(['-', '_'], "x"));
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.expect("create schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options=-csearch_path%3D{schema}")
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
