//! Signed HTTP calls to the simulator, with bounded retries.
//!
//! Every call the connector makes is idempotent at the simulator (by gatepost's id, or by the
//! simulator's reference), so a call whose answer was lost can be sent again safely.

use super::protocol::{ErrorOut, SIGNATURE_HEADER, SharedSecret};
use crate::ConnectorError;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Tries per call: one, and two retries. Bounded, because the payment page waits on it.
const TRIES: u32 = 3;
/// The pause before the first retry, doubled before each next one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// Why one try failed, and whether another may succeed.
enum TryError {
    /// A network error or a 5xx: worth another try.
    Transient(ConnectorError),
    Final(ConnectorError),
}

#[derive(Debug)]
pub(super) struct Transport {
    http: reqwest::Client,
    /// The simulator's base URL, without a trailing `/`.
    base: String,
    secret: SharedSecret,
}

impl Transport {
    pub(super) fn new(url: &str, secret: &str, timeout: Duration) -> Self {
        // TLS comes from the process's rustls crypto provider, which the binary installs.
        let http = reqwest::Client::builder()
            .user_agent(concat!("gatepost/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .redirect(reqwest::redirect::Policy::none())
            .tcp_nodelay(true)
            // Requests carry card data: they go straight to the configured acquirer, never
            // through a proxy that HTTP_PROXY or HTTPS_PROXY in the environment names.
            .no_proxy()
            .build()
            .expect("the simulator client settings are valid");
        Self { http, base: url.trim_end_matches('/').to_owned(), secret: SharedSecret::new(secret) }
    }

    /// Sends `body` (empty for a `GET`) to `path`, retrying transient failures.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Vec<u8>,
    ) -> Result<T, ConnectorError> {
        let mut backoff = FIRST_BACKOFF;
        let mut tries = 1;
        loop {
            match self.try_once(&method, path, &body).await {
                Ok(answer) => return Ok(answer),
                Err(TryError::Transient(error)) if tries < TRIES => {
                    tracing::debug!(%method, path, tries, %error, "simulator call failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    tries += 1;
                }
                Err(TryError::Transient(error) | TryError::Final(error)) => return Err(error),
            }
        }
    }

    async fn try_once<T: DeserializeOwned>(&self, method: &Method, path: &str, body: &[u8]) -> Result<T, TryError> {
        let now = gatepost_core::time::Clock::now(&gatepost_core::time::SystemClock).unix_seconds();
        let signature = self.secret.sign(now, method.as_str(), path, body);
        let mut request =
            self.http.request(method.clone(), format!("{}{path}", self.base)).header(SIGNATURE_HEADER, signature);
        if *method != Method::GET {
            request = request.header(http::header::CONTENT_TYPE, "application/json").body(body.to_vec());
        }
        let response = request.send().await.map_err(|e| TryError::Transient(unavailable(&e)))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| TryError::Transient(unavailable(&e)))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| TryError::Final(ConnectorError::Protocol(format!("{method} {path}: {e}"))));
        }
        let detail = serde_json::from_slice::<ErrorOut>(&bytes).map_or_else(|_| String::new(), |e| e.error.message);
        if status.is_server_error() {
            return Err(TryError::Transient(ConnectorError::Unavailable(format!(
                "simulator answered {status} {detail}"
            ))));
        }
        let hint =
            if status == StatusCode::UNAUTHORIZED { " (is the shared secret the same on both sides?)" } else { "" };
        Err(TryError::Final(ConnectorError::Protocol(format!("{method} {path} answered {status} {detail}{hint}"))))
    }
}

/// A network failure, described without the URL's query or any body.
fn unavailable(error: &reqwest::Error) -> ConnectorError {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    ConnectorError::Unavailable(format!("simulator {kind}: {error}"))
}
