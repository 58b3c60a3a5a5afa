//! What the tests run: a gateway in this process, the shop as a process of its own, and
//! a shopper who speaks plain HTTP and follows no redirect unless told to.

use gatepost::config::Config;
use gatepost_merchant::Webhook;
pub use gatepost_testkit::location;
use gatepost_testkit::{Backend, TestApp};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// The longest any one wait of these tests may take: a start, a webhook, a status.
pub const WAIT: Duration = Duration::from_secs(10);

/// The card the sandbox approves.
pub const APPROVED_CARD: &str = "4242 4242 4242 4242";

/// A fresh directory under `target/tmp`, removed when the test ends.
fn test_dir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(prefix).tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("test directory")
}

/// A gateway on port 0 with its own SQLite file, and one merchant on it.
pub struct Gateway {
    pub url: String,
    pub api_key: String,
    pub webhook_secret: String,
    http: reqwest::Client,
    /// Serves until the test ends.
    _app: TestApp,
}

impl Gateway {
    /// With the default sandbox settings: async cards settle after 2 s.
    pub async fn start() -> Self {
        let app = TestApp::spawn_configured(Backend::Sqlite, |config| {
            config.sandbox.async_delay = Config::with_database("sqlite://unused").sandbox.async_delay;
        })
        .await;
        let merchant = app.merchant.clone();
        Self {
            url: app.base_url.clone(),
            api_key: merchant.api_key,
            webhook_secret: merchant.webhook_secret,
            http: app.http.clone(),
            _app: app,
        }
    }

    /// `GET path` as the merchant, which must answer 200.
    pub async fn get(&self, path: &str) -> Value {
        let response = self.http.get(format!("{}{path}", self.url)).bearer_auth(&self.api_key).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    /// `POST path` with an empty body, as the merchant.
    pub async fn post(&self, path: &str) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.url)).bearer_auth(&self.api_key).send().await.unwrap()
    }

    /// The payment created last: the shop's newest order's.
    pub async fn newest_payment(&self) -> Value {
        self.get("/v1/payments?limit=1").await["data"][0].clone()
    }

    /// The payment's one event of type `event_type`, as the events API lists it.
    pub async fn event(&self, payment_id: &str, event_type: &str) -> Value {
        let events = self.get(&format!("/v1/events?payment_id={payment_id}&type={event_type}")).await;
        let [event] = events["data"].as_array().unwrap().as_slice() else { panic!("one {event_type}: {events}") };
        event.clone()
    }

    /// The merchant's webhook signer, to make deliveries as the gateway would.
    pub fn webhook(&self) -> Webhook {
        Webhook::new(&self.webhook_secret).unwrap()
    }
}

/// The shop, running as its own process on a port of its own, with its own database.
pub struct Shop {
    /// Where it listens, as it printed it.
    pub url: String,
    database: PathBuf,
    /// Killed when the test ends, however it ends.
    _process: Child,
    _dir: tempfile::TempDir,
}

impl Shop {
    /// Starts `shop` pointing at `gateway`, and waits for the line saying where it listens.
    pub async fn start(gateway: &Gateway) -> Self {
        let dir = test_dir("shop-");
        let database = dir.path().join("shop.db");
        let mut process = Command::new(env!("CARGO_BIN_EXE_shop"))
            .env("SHOP_LISTEN", "127.0.0.1:0")
            .env_remove("SHOP_PUBLIC_URL")
            .env("SHOP_DATABASE", &database)
            .env("GATEPOST_URL", &gateway.url)
            .env("GATEPOST_API_KEY", &gateway.api_key)
            .env("GATEPOST_WEBHOOK_SECRET", &gateway.webhook_secret)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            // Its log lands in the test's output, shown when a test fails.
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("the shop starts");
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("the shop says where it listens within 10 s")
            .unwrap()
            .expect("the shop printed a line");
        let url = line
            .strip_prefix("shop listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("not the listening line: {line}"))
            .to_owned();
        // Whatever else it prints goes nowhere, rather than filling a pipe nobody reads.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { url, database, _process: process, _dir: dir }
    }

    /// An absolute URL on the shop.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.url)
    }

    /// `GET /orders/{id}`, which must answer 200.
    pub async fn order(&self, id: &str) -> Value {
        let response = gatepost_testkit::http().get(self.url(&format!("/orders/{id}"))).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET /orders/{id}");
        response.json().await.unwrap()
    }

    /// Polls `GET /orders/{id}` until it says `status`, for at most `within` from now.
    pub async fn wait_for_status(&self, id: &str, status: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let order = self.order(id).await;
            if order["status"] == status {
                return order;
            }
            assert!(Instant::now() < deadline, "order {id} was not {status} within {within:?}: {order}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// How many times the order was handed over for fulfilment, from the shop's database.
    pub fn fulfilments(&self, order_id: &str) -> i64 {
        self.count("SELECT count(*) FROM fulfilments WHERE order_id = ?1", order_id)
    }

    /// How many webhooks the shop recorded as handled for the order.
    pub fn handled_webhooks(&self, order_id: &str) -> i64 {
        self.count("SELECT count(*) FROM handled_webhooks WHERE order_id = ?1", order_id)
    }

    fn count(&self, sql: &str, order_id: &str) -> i64 {
        let database = rusqlite::Connection::open(&self.database).expect("the shop's database opens");
        database.query_row(sql, [order_id], |row| row.get(0)).expect("count")
    }

    /// Delivers a webhook to the shop, signed as `signed_with` signs it at `timestamp`;
    /// returns the status the shop answered.
    pub async fn deliver(&self, webhook_id: &str, timestamp: i64, body: &str, signed_with: &Webhook) -> u16 {
        let signature = signed_with.sign(webhook_id, timestamp, body.as_bytes());
        self.post_webhook(
            &[
                ("webhook-id", webhook_id),
                ("webhook-timestamp", &timestamp.to_string()),
                ("webhook-signature", &signature),
            ],
            body,
        )
        .await
    }

    /// `POST /webhooks/gatepost` with these headers and body; returns the status.
    pub async fn post_webhook(&self, headers: &[(&str, &str)], body: &str) -> u16 {
        let mut request =
            gatepost_testkit::http().post(self.url("/webhooks/gatepost")).header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(body.to_owned()).send().await.unwrap().status().as_u16()
    }
}

/// A webhook body as the gateway sends it (docs/reference/webhooks.md#body), for an event
/// as the events API lists it.
pub fn webhook_body(event: &Value) -> String {
    json!({
        "id": event["id"],
        "type": event["type"],
        "timestamp": event["created_at"],
        "sequence": event["sequence"],
        "data": event["data"],
    })
    .to_string()
}

/// Seconds since 1970.
pub fn unix_now() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

/// The example's shopper: the testkit's, who can also press Buy in the shop.
pub struct Shopper(gatepost_testkit::Shopper);

/// An order placed by a [`Shopper`].
pub struct Placed {
    pub order_id: String,
    pub payment_id: String,
    pub checkout_url: String,
}

impl std::ops::Deref for Shopper {
    type Target = gatepost_testkit::Shopper;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Shopper {
    pub fn new() -> Self {
        Self(gatepost_testkit::Shopper::new())
    }

    /// Presses Buy: `POST /orders`, which must send the browser to the payment page.
    pub async fn place_order(&self, shop: &Shop, gateway: &Gateway) -> Placed {
        let response = self.http().post(shop.url("/orders")).send().await.unwrap();
        assert_eq!(response.status(), 303, "POST /orders sends the shopper to pay");
        let checkout_url = location(&response);
        assert!(checkout_url.starts_with(&format!("{}/pay/", gateway.url)), "{checkout_url}");
        let payment = gateway.newest_payment().await;
        assert_eq!(payment["checkout_url"], checkout_url.as_str());
        Placed {
            order_id: payment["reference"].as_str().expect("the order id is the reference").to_owned(),
            payment_id: payment["id"].as_str().unwrap().to_owned(),
            checkout_url,
        }
    }
}

/// The order id in a shop URL such as `http://…/orders/ord_…/return?…`.
pub fn order_id_in(url: &str) -> String {
    let path = url::Url::parse(url).unwrap().path().to_owned();
    let id = path.strip_prefix("/orders/").and_then(|rest| rest.split('/').next());
    id.unwrap_or_else(|| panic!("no order in {url}")).to_owned()
}
