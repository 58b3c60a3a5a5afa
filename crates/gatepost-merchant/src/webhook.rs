//! Webhook verification, Standard Webhooks 1.0 (docs/reference/webhooks.md#signature): the
//! signature over `"{webhook-id}.{webhook-timestamp}.{body}"`, a timestamp within five
//! minutes, and the body parsed into an [`Event`].

use crate::event::{Event, WebhookEvent};
use crate::key::{InvalidSecret, Key};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a webhook was refused. Answer any of them with a 4xx: the gateway retries, which
/// is what you want if the cause was on your side (a secret not yet updated, a clock off).
///
/// # Example
///
/// ```
/// use gatepost_merchant::{Webhook, WebhookError};
///
/// let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
/// let headers = [("webhook-id", "evt_1"), ("webhook-timestamp", "1763719200")];
/// let error = webhook.verify(&headers, b"{}").unwrap_err();
/// assert!(matches!(error, WebhookError::MissingHeader("webhook-signature")));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// `webhook-id`, `webhook-timestamp` or `webhook-signature` is absent or empty.
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not a whole number of seconds since 1970.
    #[error("the webhook-timestamp header is not unix seconds")]
    InvalidTimestamp,
    /// The timestamp is more than [`Webhook::TOLERANCE`] before now: a replay, or a clock far behind.
    #[error("the webhook timestamp is more than 5 minutes old")]
    TooOld,
    /// The timestamp is more than [`Webhook::TOLERANCE`] after now: a clock far ahead.
    #[error("the webhook timestamp is more than 5 minutes in the future")]
    TooNew,
    /// No `v1,` signature in `webhook-signature` matches this secret and these bytes.
    #[error("no webhook signature matches")]
    NoMatchingSignature,
    /// The signature is good but the body is not an event this version can read.
    #[error("the webhook body is not a gatepost event: {0}")]
    InvalidJson(#[source] serde_json::Error),
}

/// Access to request headers, so that [`Webhook::verify`] works with any framework.
///
/// Implemented for `http::HeaderMap` (feature `http`, on with `client`), for lists of
/// `(name, value)` pairs and for maps of names to values; names are matched without
/// regard to case.
///
/// # Example
///
/// ```
/// use gatepost_merchant::WebhookHeaders;
///
/// /// Headers as a framework of your own keeps them.
/// struct MyHeaders(Vec<(String, String)>);
///
/// impl WebhookHeaders for MyHeaders {
///     fn header_value(&self, name: &str) -> Option<&str> {
///         self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
///     }
/// }
///
/// let headers = MyHeaders(vec![("Webhook-Id".into(), "evt_1".into())]);
/// assert_eq!(headers.header_value("webhook-id"), Some("evt_1"));
/// assert_eq!([("webhook-id", "evt_1")].header_value("WEBHOOK-ID"), Some("evt_1"));
/// ```
pub trait WebhookHeaders {
    /// The value of header `name` (given in lowercase), if present and valid text.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::WebhookHeaders;
    /// use std::collections::HashMap;
    ///
    /// let headers = HashMap::from([("Webhook-Timestamp".to_owned(), "1763719200".to_owned())]);
    /// assert_eq!(headers.header_value("webhook-timestamp"), Some("1763719200"));
    /// assert_eq!(headers.header_value("webhook-id"), None);
    /// ```
    fn header_value(&self, name: &str) -> Option<&str>;
}

impl<T: WebhookHeaders + ?Sized> WebhookHeaders for &T {
    fn header_value(&self, name: &str) -> Option<&str> {
        (**self).header_value(name)
    }
}

#[cfg(feature = "http")]
impl WebhookHeaders for http::HeaderMap {
    fn header_value(&self, name: &str) -> Option<&str> {
        self.get(name)?.to_str().ok()
    }
}

fn find_pair<'a, K: AsRef<str> + 'a, V: AsRef<str> + 'a>(
    pairs: impl IntoIterator<Item = (&'a K, &'a V)>,
    name: &str,
) -> Option<&'a str> {
    pairs.into_iter().find(|(key, _)| key.as_ref().eq_ignore_ascii_case(name)).map(|(_, value)| value.as_ref())
}

impl<K: AsRef<str>, V: AsRef<str>> WebhookHeaders for [(K, V)] {
    fn header_value(&self, name: &str) -> Option<&str> {
        find_pair(self.iter().map(|(key, value)| (key, value)), name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> WebhookHeaders for [(K, V); N] {
    fn header_value(&self, name: &str) -> Option<&str> {
        self.as_slice().header_value(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> WebhookHeaders for Vec<(K, V)> {
    fn header_value(&self, name: &str) -> Option<&str> {
        self.as_slice().header_value(name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>, S> WebhookHeaders for HashMap<K, V, S> {
    fn header_value(&self, name: &str) -> Option<&str> {
        find_pair(self, name)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> WebhookHeaders for BTreeMap<K, V> {
    fn header_value(&self, name: &str) -> Option<&str> {
        find_pair(self, name)
    }
}

/// Verifies (and signs) webhooks with a merchant's webhook secret.
///
/// Verify the raw body bytes exactly as received: parsing and re-serialising JSON
/// changes them, and the signature with them.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{EventType, Webhook};
///
/// let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
///
/// // What the gateway sends (made here with `sign`, as a test of your endpoint would).
/// let body = br#"{"id":"evt_1","type":"payment.succeeded","timestamp":"2026-11-21T10:00:00.123Z","sequence":1,
///                 "data":{"id":"pay_1","status":"SUCCESS","amount":1050,"currency":"EUR"}}"#;
/// let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
/// let signature = webhook.sign("evt_1", now, body);
/// let timestamp = now.to_string();
/// let headers =
///     [("webhook-id", "evt_1"), ("webhook-timestamp", timestamp.as_str()), ("webhook-signature", signature.as_str())];
///
/// let event = webhook.verify(&headers, body)?;
/// assert_eq!(event.event_type, EventType::Succeeded);
/// assert_eq!(event.data.id, "pay_1");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Webhook {
    key: Key,
}

impl Webhook {
    /// How far a webhook's timestamp may be from the receiver's clock, either way: five
    /// minutes, as Standard Webhooks prescribes. It bounds how long a captured request can
    /// be replayed; deduplicate by `webhook-id` for the rest.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(gatepost_merchant::Webhook::TOLERANCE.as_secs(), 300);
    /// ```
    pub const TOLERANCE: Duration = Duration::from_secs(5 * 60);

    /// Takes the secret as `gatepost merchant create` printed it: `whsec_` followed by
    /// base64. Surrounding whitespace (a newline from a secrets file) is ignored.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::Webhook;
    ///
    /// assert!(Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_ok());
    /// assert!(Webhook::new("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
    /// ```
    pub fn new(secret: &str) -> Result<Self, InvalidSecret> {
        Key::parse(secret).map(|key| Self { key })
    }

    /// Verifies a request and parses its body, with the current time.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{Webhook, WebhookError};
    ///
    /// let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    /// // A signature made a long time ago: refused, even though it is genuine.
    /// let headers = [
    ///     ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"),
    ///     ("webhook-timestamp", "1614265330"),
    ///     ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
    /// ];
    /// let error = webhook.verify(&headers, br#"{"test": 2432232314}"#).unwrap_err();
    /// assert!(matches!(error, WebhookError::TooOld));
    /// ```
    pub fn verify<H: WebhookHeaders + ?Sized>(&self, headers: &H, body: &[u8]) -> Result<Event, WebhookError> {
        let header = |name: &'static str| {
            headers.header_value(name).filter(|value| !value.is_empty()).ok_or(WebhookError::MissingHeader(name))
        };
        self.verify_parts(
            header("webhook-id")?,
            header("webhook-timestamp")?,
            header("webhook-signature")?,
            body,
            SystemTime::now(),
        )
    }

    /// As [`verify`](Self::verify), for an endpoint that also subscribes to events about
    /// endpoints (`webhook_endpoint.disabled`, `webhook_endpoint.test`), whose `data` is an
    /// endpoint, not a payment.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{EventType, Webhook, WebhookEvent};
    /// use std::time::{SystemTime, UNIX_EPOCH};
    ///
    /// let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    /// let body = br#"{"id":"evt_2","type":"webhook_endpoint.test","timestamp":"2026-11-21T10:00:00.123Z",
    ///     "data":{"id":"we_1","object":"webhook_endpoint","url":"https://shop.example/hooks","enabled_events":["*"],
    ///             "description":null,"ack_mode":"status","status":"enabled","disabled_reason":null,
    ///             "created_at":"2026-11-01T10:00:00.000Z"}}"#;
    /// let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
    /// let signature = webhook.sign("evt_2", now.parse().unwrap(), body);
    /// let headers = [("webhook-id", "evt_2"), ("webhook-timestamp", now.as_str()), ("webhook-signature", signature.as_str())];
    /// match webhook.verify_any(&headers, body)? {
    ///     WebhookEvent::Endpoint(event) => assert_eq!(event.event_type, EventType::EndpointTest),
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn verify_any<H: WebhookHeaders + ?Sized>(
        &self,
        headers: &H,
        body: &[u8],
    ) -> Result<WebhookEvent, WebhookError> {
        let header = |name: &'static str| {
            headers.header_value(name).filter(|value| !value.is_empty()).ok_or(WebhookError::MissingHeader(name))
        };
        let (id, timestamp, signature) =
            (header("webhook-id")?, header("webhook-timestamp")?, header("webhook-signature")?);
        self.verify_signature(id, timestamp, signature, body, SystemTime::now())?;
        #[derive(serde::Deserialize)]
        struct Kind {
            #[serde(rename = "type")]
            event_type: String,
        }
        let kind: Kind = serde_json::from_slice(body).map_err(WebhookError::InvalidJson)?;
        if kind.event_type.starts_with("webhook_endpoint.") {
            serde_json::from_slice(body)
                .map(|event| WebhookEvent::Endpoint(Box::new(event)))
                .map_err(WebhookError::InvalidJson)
        } else {
            serde_json::from_slice(body)
                .map(|event| WebhookEvent::Payment(Box::new(event)))
                .map_err(WebhookError::InvalidJson)
        }
    }

    /// Verifies the three header values and the body at time `now`, then parses the body.
    /// For frameworks whose headers [`WebhookHeaders`] does not cover, and for tests.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::Webhook;
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    /// let body = br#"{"id":"evt_1","type":"payment.expired","timestamp":"2026-11-21T10:00:00.123Z","sequence":2,
    ///                 "data":{"id":"pay_1","status":"EXPIRED","amount":1050,"currency":"EUR"}}"#;
    /// let signature = webhook.sign("evt_1", 1_763_719_200, body);
    /// let now = UNIX_EPOCH + Duration::from_secs(1_763_719_260);
    /// let event = webhook.verify_parts("evt_1", "1763719200", &signature, body, now).unwrap();
    /// assert_eq!(event.sequence, 2);
    /// ```
    pub fn verify_parts(
        &self,
        webhook_id: &str,
        timestamp: &str,
        signature: &str,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Event, WebhookError> {
        self.verify_signature(webhook_id, timestamp, signature, body, now)?;
        serde_json::from_slice(body).map_err(WebhookError::InvalidJson)
    }

    /// As [`verify_parts`](Self::verify_parts), without parsing the body: for bodies that
    /// are not gatepost events, such as the Standard Webhooks test vectors.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::Webhook;
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    /// let now = UNIX_EPOCH + Duration::from_secs(1_614_265_330);
    /// let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    /// let body = br#"{"test": 2432232314}"#;
    /// assert!(webhook.verify_signature("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", signature, body, now).is_ok());
    /// ```
    pub fn verify_signature(
        &self,
        webhook_id: &str,
        timestamp: &str,
        signature: &str,
        body: &[u8],
        now: SystemTime,
    ) -> Result<(), WebhookError> {
        for (name, value) in [("webhook-id", webhook_id), ("webhook-timestamp", timestamp)] {
            if value.is_empty() {
                return Err(WebhookError::MissingHeader(name));
            }
        }
        let timestamp: i64 = timestamp.trim().parse().map_err(|_| WebhookError::InvalidTimestamp)?;
        let now = unix_seconds(now);
        let tolerance = Self::TOLERANCE.as_secs().cast_signed();
        if timestamp < now.saturating_sub(tolerance) {
            return Err(WebhookError::TooOld);
        }
        if timestamp > now.saturating_add(tolerance) {
            return Err(WebhookError::TooNew);
        }
        // The timestamp is signed as the gateway wrote it: a plain integer.
        let timestamp = timestamp.to_string();
        let content = [webhook_id.as_bytes(), b".", timestamp.as_bytes(), b".", body];
        // Several signatures during a secret rotation
        // (docs/reference/webhooks.md#secret-rotation); any one of ours will do.
        if signature.split_ascii_whitespace().any(|candidate| self.key.verify(&content, candidate)) {
            Ok(())
        } else {
            Err(WebhookError::NoMatchingSignature)
        }
    }

    /// The `webhook-signature` value the gateway would send for this message:
    /// `v1,<base64 HMAC-SHA256("{webhook_id}.{timestamp}.{body}")>`. For tests of your
    /// webhook endpoint.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::Webhook;
    ///
    /// let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    /// let signature = webhook.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, br#"{"test": 2432232314}"#);
    /// assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /// ```
    #[must_use]
    pub fn sign(&self, webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
        let timestamp = timestamp.to_string();
        self.key.sign(&[webhook_id.as_bytes(), b".", timestamp.as_bytes(), b".", body])
    }
}

/// Seconds since 1970, negative before it.
pub(crate) fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |seconds| -seconds),
    }
}
