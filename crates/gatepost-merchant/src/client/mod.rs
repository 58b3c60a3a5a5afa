//! A small async client for the gatepost API (feature `client`): create and retrieve
//! payments, list events, and manage webhook endpoints.
//!
//! Network errors, `5xx` and `429` answers are retried a few times with a short backoff.
//! That is safe: reads change nothing, and every `POST` carries an `Idempotency-Key` that
//! stays the same across retries, so the gateway answers a repeated creation with the
//! payment it already made (docs/reference/api.md#idempotency). Other `4xx` answers are
//! never retried, as the same request would get the same answer; the one exception is
//! `409 idempotency_key_in_use`, which says an earlier try of this very request is still
//! running.

use crate::endpoint::{NewWebhookEndpoint, WebhookEndpoint, WebhookEndpointUpdate};
use crate::event::{EventRecord, EventType};
use crate::payment::{NewPayment, Payment};
use crate::problem::{ApiError, List};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::time::{Duration, SystemTime};

mod retry;

pub use retry::RetryPolicy;
use retry::retry_after;

/// Why an API call failed.
///
/// # Example
///
/// ```no_run
/// use gatepost_merchant::{Client, ClientError};
///
/// # async fn run(client: Client) {
/// match client.retrieve_payment("pay_does_not_exist").await {
///     Ok(payment) => println!("{}", payment.status),
///     Err(ClientError::Api(problem)) if problem.code == "not_found" => println!("no such payment"),
///     Err(error) => eprintln!("gatepost: {error}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The base URL given to [`Client::new`] is not an absolute `http` or `https` URL.
    #[error("the gatepost base URL is not usable: {0}")]
    InvalidBaseUrl(String),
    /// An id that cannot name an object (empty, or `.` or `..`).
    #[error("{0:?} is not an id")]
    InvalidId(String),
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be set up: {0}")]
    Setup(#[source] reqwest::Error),
    /// TLS could not be set up (the platform's certificate verification is unavailable).
    #[error("TLS could not be set up: {0}")]
    Tls(#[source] rustls::Error),
    /// The gateway could not be reached, or the connection broke, on every try.
    #[error("the gateway could not be reached: {0}")]
    Network(#[source] reqwest::Error),
    /// The gateway answered with an error (after any retries). Boxed to keep results small.
    #[error("the gateway answered {0}")]
    Api(#[source] Box<ApiError>),
    /// The gateway (or something in front of it) answered something that is neither the
    /// expected object nor a problem document.
    #[error("unexpected answer from the gateway ({status}): {detail}")]
    UnexpectedResponse {
        /// The HTTP status code.
        status: u16,
        /// What was wrong, with the start of the body.
        detail: String,
    },
}

/// Filters for [`Client::list_events`]; all optional.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{EventQuery, EventType};
///
/// let query = EventQuery {
///     payment_id: Some("pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E".into()),
///     event_type: Some(EventType::Succeeded),
///     ..EventQuery::default()
/// };
/// assert_eq!(query.limit, None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventQuery {
    /// Only this payment's events.
    pub payment_id: Option<String>,
    /// Only events of this type.
    pub event_type: Option<EventType>,
    /// Page size, 1 to 100 (gateway default 20).
    pub limit: Option<u32>,
    /// The next page: the id of the last event of the previous one.
    pub starting_after: Option<String>,
}

/// A client for the gatepost API, authenticated with a merchant's secret key. Cheap to
/// clone; clones share their connections.
///
/// # Example
///
/// ```no_run
/// use gatepost_merchant::{Client, NewPayment};
///
/// # async fn run() -> Result<(), gatepost_merchant::ClientError> {
/// let client = Client::new("http://127.0.0.1:8080", "sk_test_…")?;
/// let order_id = "1234";
/// let payment = NewPayment {
///     reference: Some(format!("order-{order_id}")),
///     return_url: Some(format!("https://shop.example/orders/{order_id}/return")),
///     ..NewPayment::new(1050, "EUR")
/// };
/// // Derived from the order: a second click on "Pay" gets the same payment, not a new one.
/// let payment = client.create_payment(&payment, Some(&format!("order-{order_id}"))).await?;
/// println!("send the shopper to {}", payment.checkout_url);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Without query or fragment; API paths are appended to its path.
    base_url: Url,
    api_key: String,
    retry: RetryPolicy,
    /// For one try, from sending the request to the end of the answer.
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    // The API key never reaches a log through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url.as_str())
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of an unexpected body an error quotes.
const BODY_EXCERPT_CHARS: usize = 200;

impl Client {
    /// A client for the gateway at `base_url` (such as `http://127.0.0.1:8080`; a path
    /// prefix is kept), with the merchant's secret key (`sk_test_…` or `sk_live_…`), the
    /// default [`RetryPolicy`] and a 30 s timeout per try.
    ///
    /// Uses rustls with the ring crypto provider, which it installs as the process
    /// default unless another provider was installed first.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{Client, ClientError};
    ///
    /// assert!(Client::new("https://pay.example/gatepost", "sk_live_…").is_ok());
    /// assert!(matches!(Client::new("pay.example", "sk_live_…"), Err(ClientError::InvalidBaseUrl(_))));
    /// ```
    pub fn new(base_url: &str, api_key: &str) -> Result<Self, ClientError> {
        let mut url =
            Url::parse(base_url).map_err(|error| ClientError::InvalidBaseUrl(format!("{base_url}: {error}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
            return Err(ClientError::InvalidBaseUrl(format!("{base_url}: not an http or https URL")));
        }
        url.set_query(None);
        url.set_fragment(None);
        let http = reqwest::Client::builder()
            // The kit brings its own TLS configuration (ring, the platform's certificate
            // verification) instead of installing a process-wide provider in its host.
            .tls_backend_preconfigured(tls_config()?)
            .user_agent(concat!("gatepost-merchant/", env!("CARGO_PKG_VERSION")))
            // The API never redirects; following one would send the key somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(ClientError::Setup)?;
        Ok(Self {
            http,
            base_url: url,
            api_key: api_key.to_owned(),
            retry: RetryPolicy::default(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The same client with another retry policy.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{Client, RetryPolicy};
    ///
    /// let client = Client::new("http://127.0.0.1:8080", "sk_test_…")
    ///     .unwrap()
    ///     .with_retry_policy(RetryPolicy { max_retries: 1, ..RetryPolicy::default() });
    /// # drop(client);
    /// ```
    #[must_use]
    pub fn with_retry_policy(self, retry: RetryPolicy) -> Self {
        Self { retry, ..self }
    }

    /// The same client with another timeout for each try.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::Client;
    /// use std::time::Duration;
    ///
    /// let client = Client::new("http://127.0.0.1:8080", "sk_test_…").unwrap().with_timeout(Duration::from_secs(5));
    /// # drop(client);
    /// ```
    #[must_use]
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self { timeout, ..self }
    }

    /// `POST /v1/payments`: creates a payment (`201`) or, for an idempotency key already
    /// used with the same body in the last 24 h, returns the payment that request made.
    ///
    /// Pass an idempotency key derived from your order (such as `order-1234`), so that a
    /// double click or a retry of yours never creates a second payment. Without one, a
    /// random key is made for this call and kept across its own retries.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use gatepost_merchant::{Client, NewPayment};
    ///
    /// # async fn run(client: Client) -> Result<(), gatepost_merchant::ClientError> {
    /// let payment = client.create_payment(&NewPayment::new(1050, "EUR"), Some("order-1234")).await?;
    /// assert_eq!(payment.amount, 1050);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_payment(
        &self,
        payment: &NewPayment,
        idempotency_key: Option<&str>,
    ) -> Result<Payment, ClientError> {
        let generated;
        let idempotency_key = match idempotency_key {
            Some(key) => key,
            None => {
                generated = format!("{:032x}", rand::random::<u128>());
                &generated
            }
        };
        let body = serde_json::to_vec(payment).expect("a new payment always serializes");
        self.call(Method::POST, self.endpoint(&["v1", "payments"]), Some(&body), Some(idempotency_key)).await
    }

    /// `GET /v1/payments/{id}`: the payment as it stands now, with its attempts and
    /// refunds. The answer to trust before fulfilling, with the verified webhook.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use gatepost_merchant::{Client, PaymentStatus};
    ///
    /// # async fn run(client: Client) -> Result<(), gatepost_merchant::ClientError> {
    /// let payment = client.retrieve_payment("pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E").await?;
    /// if payment.status == PaymentStatus::Success {
    ///     // ship the order
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn retrieve_payment(&self, id: &str) -> Result<Payment, ClientError> {
        // `.` and `..` would be resolved as path steps, and name another resource.
        if id.is_empty() || id == "." || id == ".." {
            return Err(ClientError::InvalidId(id.to_owned()));
        }
        self.call(Method::GET, self.endpoint(&["v1", "payments", id]), None, None).await
    }

    /// `GET /v1/events`: events newest first, one page at a time. Use it to catch up on
    /// webhooks missed while your endpoint was down.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use gatepost_merchant::{Client, EventQuery};
    ///
    /// # async fn run(client: Client) -> Result<(), gatepost_merchant::ClientError> {
    /// let mut query = EventQuery { payment_id: Some("pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E".into()), ..EventQuery::default() };
    /// loop {
    ///     let page = client.list_events(&query).await?;
    ///     for event in &page.data {
    ///         println!("{} {} #{:?}", event.id, event.event_type, event.sequence);
    ///     }
    ///     match page.data.last() {
    ///         Some(last) if page.has_more => query.starting_after = Some(last.id.clone()),
    ///         _ => break,
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_events(&self, query: &EventQuery) -> Result<List<EventRecord>, ClientError> {
        let mut url = self.endpoint(&["v1", "events"]);
        {
            let mut pairs = url.query_pairs_mut();
            if let Some(payment_id) = &query.payment_id {
                pairs.append_pair("payment_id", payment_id);
            }
            if let Some(event_type) = &query.event_type {
                pairs.append_pair("type", event_type.as_str());
            }
            if let Some(limit) = query.limit {
                pairs.append_pair("limit", &limit.to_string());
            }
            if let Some(starting_after) = &query.starting_after {
                pairs.append_pair("starting_after", starting_after);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        self.call(Method::GET, url, None, None).await
    }

    /// `POST /v1/webhook_endpoints`: a new endpoint, with its `secret` (shown in this answer
    /// only). Retried under one idempotency key, so a lost answer never makes a second one.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use gatepost_merchant::{Client, NewWebhookEndpoint};
    ///
    /// # async fn run(client: Client) -> Result<(), gatepost_merchant::ClientError> {
    /// let new = NewWebhookEndpoint::new("https://shop.example/hooks/refunds").with_events(["payment.refunded"]);
    /// let endpoint = client.create_webhook_endpoint(&new).await?;
    /// let secret = endpoint.secret.expect("shown on creation"); // store it with the refunds service
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create_webhook_endpoint(&self, endpoint: &NewWebhookEndpoint) -> Result<WebhookEndpoint, ClientError> {
        let key = format!("{:032x}", rand::random::<u128>());
        let body = serde_json::to_vec(endpoint).expect("a new endpoint always serializes");
        self.call(Method::POST, self.endpoint(&["v1", "webhook_endpoints"]), Some(&body), Some(&key)).await
    }

    /// `GET /v1/webhook_endpoints`: every endpoint, oldest first (16 at most, one page).
    pub async fn list_webhook_endpoints(&self) -> Result<List<WebhookEndpoint>, ClientError> {
        self.call(Method::GET, self.endpoint(&["v1", "webhook_endpoints"]), None, None).await
    }

    /// `GET /v1/webhook_endpoints/{id}`.
    pub async fn retrieve_webhook_endpoint(&self, id: &str) -> Result<WebhookEndpoint, ClientError> {
        self.call(Method::GET, self.endpoint_of(id, &[])?, None, None).await
    }

    /// `PATCH /v1/webhook_endpoints/{id}`: changes the fields that are set.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use gatepost_merchant::{Client, EndpointStatus, WebhookEndpointUpdate};
    ///
    /// # async fn run(client: Client) -> Result<(), gatepost_merchant::ClientError> {
    /// let enable = WebhookEndpointUpdate { status: Some(EndpointStatus::Enabled), ..Default::default() };
    /// client.update_webhook_endpoint("we_01JD2YB3C4D5E6F7G8H9J0K1M2", &enable).await?;
    /// client.recover_webhook_endpoint("we_01JD2YB3C4D5E6F7G8H9J0K1M2", "2026-11-30T08:00:00Z").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn update_webhook_endpoint(
        &self,
        id: &str,
        update: &WebhookEndpointUpdate,
    ) -> Result<WebhookEndpoint, ClientError> {
        let body = serde_json::to_vec(update).expect("an update always serializes");
        self.call(Method::PATCH, self.endpoint_of(id, &[])?, Some(&body), None).await
    }

    /// `DELETE /v1/webhook_endpoints/{id}`.
    pub async fn delete_webhook_endpoint(&self, id: &str) -> Result<(), ClientError> {
        self.call(Method::DELETE, self.endpoint_of(id, &[])?, None, None).await
    }

    /// `POST /v1/webhook_endpoints/{id}/rotate-secret`: the new secret; the old one keeps
    /// signing beside it until `previous_secret_expires_at`.
    pub async fn rotate_webhook_endpoint_secret(&self, id: &str) -> Result<RotatedSecret, ClientError> {
        self.call(Method::POST, self.endpoint_of(id, &["rotate-secret"])?, None, None).await
    }

    /// `POST /v1/webhook_endpoints/{id}/test`: a `webhook_endpoint.test` event to that
    /// endpoint alone.
    pub async fn test_webhook_endpoint(&self, id: &str) -> Result<EventRecord, ClientError> {
        self.call(Method::POST, self.endpoint_of(id, &["test"])?, None, None).await
    }

    /// `POST /v1/webhook_endpoints/{id}/recover`: every event since `since` (RFC 3339) that
    /// was not delivered to the endpoint is sent again, once.
    pub async fn recover_webhook_endpoint(&self, id: &str, since: &str) -> Result<Recovery, ClientError> {
        let body = serde_json::to_vec(&serde_json::json!({ "since": since })).expect("JSON");
        self.call(Method::POST, self.endpoint_of(id, &["recover"])?, Some(&body), None).await
    }

    /// The URL of one endpoint, or of one of its actions.
    fn endpoint_of(&self, id: &str, action: &[&str]) -> Result<Url, ClientError> {
        // `.` and `..` would be resolved as path steps, and name another resource.
        if id.is_empty() || id == "." || id == ".." {
            return Err(ClientError::InvalidId(id.to_owned()));
        }
        let mut segments = vec!["v1", "webhook_endpoints", id];
        segments.extend(action);
        Ok(self.endpoint(&segments))
    }

    /// The base URL with `segments` appended, each percent-encoded as one segment.
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base_url.clone();
        url.path_segments_mut().expect("checked to be a base in Client::new").pop_if_empty().extend(segments);
        url
    }

    /// One call, with its retries.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&[u8]>,
        idempotency_key: Option<&str>,
    ) -> Result<T, ClientError> {
        let mut retry = 0;
        loop {
            let failure = match self.try_once(&method, &url, body, idempotency_key).await {
                Ok(value) => return Ok(value),
                Err(failure) => failure,
            };
            if !failure.retryable || retry >= self.retry.max_retries {
                return Err(failure.error);
            }
            tokio::time::sleep(self.retry.delay(retry, failure.retry_after)).await;
            retry += 1;
        }
    }

    async fn try_once<T: DeserializeOwned>(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        idempotency_key: Option<&str>,
    ) -> Result<T, Failure> {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(&self.api_key)
            .header(ACCEPT, "application/json")
            .timeout(self.timeout);
        if let Some(body) = body {
            request = request.header(CONTENT_TYPE, "application/json").body(body.to_vec());
        }
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let response = request.send().await.map_err(Failure::network)?;
        let status = response.status();
        let retry_after = retry_after(response.headers(), SystemTime::now());
        let received = response.bytes().await.map_err(Failure::network)?;
        // A 204 has nothing to read: `()`, what such a call expects, reads from `null`.
        let bytes: &[u8] = if status == StatusCode::NO_CONTENT { b"null" } else { &received };
        if status.is_success() {
            return serde_json::from_slice(bytes).map_err(|error| Failure {
                error: unexpected(status, &format!("not the expected JSON ({error})"), bytes),
                retryable: false,
                retry_after: None,
            });
        }
        let error = match serde_json::from_slice::<ApiError>(bytes) {
            Ok(problem) => ClientError::Api(Box::new(problem)),
            Err(_) => unexpected(status, "not a problem document", bytes),
        };
        let retryable = status.is_server_error()
            || status == StatusCode::TOO_MANY_REQUESTS
            || matches!(&error, ClientError::Api(problem) if problem.code == "idempotency_key_in_use");
        Err(Failure { error, retryable, retry_after })
    }
}

/// An endpoint's new secret, shown once.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct RotatedSecret {
    pub secret: String,
    /// Until then webhooks carry a second signature, made with the previous secret.
    pub previous_secret_expires_at: String,
}

impl std::fmt::Debug for RotatedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatedSecret").field("previous_secret_expires_at", &self.previous_secret_expires_at).finish()
    }
}

/// What `recover` sent again.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Recovery {
    pub endpoint_id: String,
    pub since: String,
    /// How many events are on their way again.
    pub events: u64,
}

/// A failed try, and whether trying again may help.
struct Failure {
    error: ClientError,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    /// The request may not have reached the gateway, or its answer was lost: trying again
    /// is safe (reads, and writes under the same idempotency key).
    fn network(error: reqwest::Error) -> Self {
        Self { retryable: !error.is_builder(), error: ClientError::Network(error), retry_after: None }
    }
}

/// The client's TLS: ring as the crypto provider, certificates checked as the platform
/// does (the same verifier reqwest would use), HTTP/1.1.
fn tls_config() -> Result<rustls::ClientConfig, ClientError> {
    use rustls_platform_verifier::BuilderVerifierExt as _;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(ClientError::Tls)?
        .with_platform_verifier()
        .map_err(ClientError::Tls)?
        .with_no_client_auth())
}

fn unexpected(status: StatusCode, what: &str, body: &[u8]) -> ClientError {
    let excerpt: String = String::from_utf8_lossy(body).chars().take(BODY_EXCERPT_CHARS).collect();
    ClientError::UnexpectedResponse { status: status.as_u16(), detail: format!("{what}: {excerpt:?}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_builds_without_a_process_wide_tls_provider() {
        // Nothing in this test binary installs one: the kit must not need its host to.
        assert!(rustls::crypto::CryptoProvider::get_default().is_none());
        assert!(Client::new("https://pay.example", "sk_test_x").is_ok());
        assert!(rustls::crypto::CryptoProvider::get_default().is_none(), "and it installs none");
    }

    #[test]
    fn endpoints_keep_a_path_prefix_and_encode_ids_as_one_segment() {
        let client = Client::new("https://pay.example/gatepost/?x=1#f", "sk_test_1").unwrap();
        assert_eq!(
            client.endpoint(&["v1", "payments", "pay_1/../x?y"]).as_str(),
            "https://pay.example/gatepost/v1/payments/pay_1%2F..%2Fx%3Fy"
        );
        let client = Client::new("http://127.0.0.1:8080", "sk_test_1").unwrap();
        assert_eq!(client.endpoint(&["v1", "events"]).as_str(), "http://127.0.0.1:8080/v1/events");
    }

    #[test]
    fn debug_output_hides_the_api_key() {
        let client = Client::new("http://127.0.0.1:8080", "sk_test_secret").unwrap();
        assert!(!format!("{client:?}").contains("sk_test_secret"));
    }
}
