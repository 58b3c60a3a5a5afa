//! The wire protocol between the `simulator` connector and `gatepost acquirer-sim`
//! (docs/reference/connectors.md#simulator-protocol): paths, bodies and the signature,
//! written once so that both sides agree by construction.
//!
//! # Paths (served by the simulator)
//!
//! | request | body | answer |
//! |---|---|---|
//! | `POST /v1/authorizations` | [`AuthorizeIn`] | [`AuthorizationOut`] |
//! | `GET /v1/authorizations/{reference}` | — | [`AuthorizationOut`] |
//! | `POST /v1/authorizations/{reference}/challenge` | [`ChallengeIn`] | [`AuthorizationOut`] |
//! | `POST /v1/authorizations/{reference}/capture` | [`CaptureIn`] | [`OperationOut`] |
//! | `POST /v1/authorizations/{reference}/void` | `{}` | [`OperationOut`] |
//! | `POST /v1/refunds` | [`RefundIn`] | [`RefundOut`] |
//! | `GET /v1/refunds/{reference}` | — | [`RefundOut`] |
//!
//! Errors are answered with a non-2xx status and an [`ErrorOut`]. Results the simulator
//! reports on its own are POSTed to `{gateway-url}/callbacks/simulator` as a [`CallbackBody`].
//!
//! # Signature
//!
//! Every message in either direction carries
//! `gatepost-sim-signature: t=<unix seconds>,v1=<base64 HMAC-SHA256(secret, "{t}.{METHOD}.{path}.{body}")>`,
//! where `path` is the protocol path above (for callbacks always [`CALLBACK_PATH`], whatever
//! prefix the gateway's URL has) and `body` the exact bytes sent, empty for a `GET`. Signing
//! the method and path means a signed `GET` cannot be replayed as another request; the
//! timestamp must be within [`TOLERANCE_SECONDS`] of the receiver's clock.

use crate::{Outcome, RefundOutcome};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use gatepost_core::ids::{AttemptId, PaymentId, RefundId};
use gatepost_core::money::Currency;
use gatepost_core::payment::CaptureMode;
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;

pub const AUTHORIZATIONS_PATH: &str = "/v1/authorizations";
pub const REFUNDS_PATH: &str = "/v1/refunds";
/// Where the gateway receives the simulator's callbacks (`/callbacks/{connector}`:
/// docs/reference/callbacks.md#callbacks).
pub const CALLBACK_PATH: &str = "/callbacks/simulator";
pub const SIGNATURE_HEADER: &str = "gatepost-sim-signature";
/// How far a signature's timestamp may be from the receiver's clock, either way: enough for
/// skewed clocks and slow retries, short enough that a captured message soon stops working.
pub const TOLERANCE_SECONDS: i64 = 300;

#[must_use]
pub fn authorization_path(reference: &str) -> String {
    format!("{AUTHORIZATIONS_PATH}/{reference}")
}

#[must_use]
pub fn challenge_path(reference: &str) -> String {
    format!("{AUTHORIZATIONS_PATH}/{reference}/challenge")
}

#[must_use]
pub fn capture_path(reference: &str) -> String {
    format!("{AUTHORIZATIONS_PATH}/{reference}/capture")
}

#[must_use]
pub fn void_path(reference: &str) -> String {
    format!("{AUTHORIZATIONS_PATH}/{reference}/void")
}

#[must_use]
pub fn refund_path(reference: &str) -> String {
    format!("{REFUNDS_PATH}/{reference}")
}

/// Whether `text` can be a simulator reference: the simulator only makes them from URL-safe
/// characters, so one can go into a path as it is and be signed exactly as it is sent.
#[must_use]
pub fn is_reference(text: &str) -> bool {
    !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The secret both sides sign with (`--secret` of the simulator, `connectors.simulator.secret`
/// of the gateway).
#[derive(Clone)]
pub struct SharedSecret(Vec<u8>);

impl fmt::Debug for SharedSecret {
    // Secrets never reach logs (docs/reference/urls.md#secrets-and-keys), not even through
    // a stray `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret(…)")
    }
}

/// Why a signature was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {SIGNATURE_HEADER} header is missing")]
    Missing,
    #[error("the {SIGNATURE_HEADER} header is not t=<seconds>,v1=<signature>")]
    Malformed,
    #[error("the signature's timestamp is too far from now")]
    Outdated,
    #[error("the signature does not match")]
    Mismatch,
}

impl SharedSecret {
    #[must_use]
    pub fn new(secret: &str) -> Self {
        Self(secret.as_bytes().to_vec())
    }

    fn mac(&self, timestamp: i64, method: &str, path: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        mac.update(format!("{timestamp}.{method}.{path}.").as_bytes());
        mac.update(body);
        mac
    }

    /// The value of the [`SIGNATURE_HEADER`] for one message sent at `unix_seconds`.
    #[must_use]
    pub fn sign(&self, unix_seconds: i64, method: &str, path: &str, body: &[u8]) -> String {
        let signature = self.mac(unix_seconds, method, path, body).finalize().into_bytes();
        format!("t={unix_seconds},v1={}", BASE64.encode(signature))
    }

    /// Checks a received [`SIGNATURE_HEADER`] (`None` when absent) against the message and
    /// the receiver's clock; the comparison takes constant time.
    pub fn verify(
        &self,
        header: Option<&str>,
        method: &str,
        path: &str,
        body: &[u8],
        now_unix_seconds: i64,
    ) -> Result<(), SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
                Some(("v1", value)) => signatures.push(BASE64.decode(value).map_err(|_| SignatureError::Malformed)?),
                // Unknown schemes are skipped, so a later `v2` can be sent alongside `v1`.
                Some(_) => {}
                None => return Err(SignatureError::Malformed),
            }
        }
        let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
        if signatures.is_empty() {
            return Err(SignatureError::Malformed);
        }
        if now_unix_seconds.abs_diff(timestamp) > TOLERANCE_SECONDS.unsigned_abs() {
            return Err(SignatureError::Outdated);
        }
        let mac = self.mac(timestamp, method, path, body);
        if signatures.iter().any(|signature| mac.clone().verify_slice(signature).is_ok()) {
            Ok(())
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

/// `POST /v1/authorizations`. Idempotent by `attempt_id`: asking twice authorizes once and
/// answers the first answer again.
#[derive(Debug, Serialize, Deserialize)]
pub struct AuthorizeIn {
    pub attempt_id: AttemptId,
    pub payment_id: PaymentId,
    pub amount: i64,
    pub currency: Currency,
    pub capture: CaptureMode,
    pub card: CardIn,
}

/// The card, as an acquirer needs it. It decides the outcome and is then forgotten.
#[derive(Serialize, Deserialize)]
pub struct CardIn {
    pub number: String,
    pub exp_month: u8,
    pub exp_year: u16,
    pub cvc: String,
}

impl fmt::Debug for CardIn {
    // The number and CVC never reach a log line (docs/reference/hosted-page.md#card-data).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last4 = self.number.get(self.number.len().saturating_sub(4)..).unwrap_or("");
        write!(f, "CardIn(•••• {last4}, {:02}/{})", self.exp_month, self.exp_year)
    }
}

/// Where an authorization stands: the answer to authorize, challenge and status poll.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationOut {
    /// The simulator's id of the authorization, for every later call about it.
    pub reference: String,
    #[serde(flatten)]
    pub status: AuthorizationStatus,
}

/// [`Outcome`] on the wire: `{"status":"declined","code":"card_declined","message":"…"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AuthorizationStatus {
    Approved,
    Declined { code: String, message: String },
    Error { code: String, message: String },
    ChallengeRequired,
    Pending,
}

impl From<&Outcome> for AuthorizationStatus {
    fn from(outcome: &Outcome) -> Self {
        match outcome.clone() {
            Outcome::Approved => Self::Approved,
            Outcome::Declined { code, message } => Self::Declined { code, message },
            Outcome::Error { code, message } => Self::Error { code, message },
            Outcome::ChallengeRequired => Self::ChallengeRequired,
            Outcome::Pending => Self::Pending,
        }
    }
}

impl From<AuthorizationStatus> for Outcome {
    fn from(status: AuthorizationStatus) -> Self {
        match status {
            AuthorizationStatus::Approved => Self::Approved,
            AuthorizationStatus::Declined { code, message } => Self::Declined { code, message },
            AuthorizationStatus::Error { code, message } => Self::Error { code, message },
            AuthorizationStatus::ChallengeRequired => Self::ChallengeRequired,
            AuthorizationStatus::Pending => Self::Pending,
        }
    }
}

/// `POST /v1/authorizations/{reference}/challenge`: how the shopper's 3-D Secure went.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChallengeIn {
    pub authenticated: bool,
}

/// `POST /v1/authorizations/{reference}/capture`. Asking twice for the same amount captures
/// once and answers `done` again.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaptureIn {
    pub amount: i64,
    pub currency: Currency,
}

/// The answer to a capture or a void: `{"status":"done"}` or
/// `{"status":"refused","code":"…","message":"…"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum OperationOut {
    Done,
    Refused { code: String, message: String },
}

impl From<OperationOut> for crate::OperationOutcome {
    fn from(out: OperationOut) -> Self {
        match out {
            OperationOut::Done => Self::Done,
            OperationOut::Refused { code, message } => Self::Refused { code, message },
        }
    }
}

/// `POST /v1/refunds`. Idempotent by `refund_id`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefundIn {
    pub refund_id: RefundId,
    pub payment_id: PaymentId,
    /// The reference of the captured authorization.
    pub authorization: String,
    pub amount: i64,
    pub currency: Currency,
}

/// Where a refund stands: the answer to refund and to its status poll.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundOut {
    pub reference: String,
    #[serde(flatten)]
    pub status: RefundStatus,
}

/// [`RefundOutcome`] on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RefundStatus {
    Succeeded,
    Pending,
    Failed { code: String, message: String },
}

impl From<&RefundOutcome> for RefundStatus {
    fn from(outcome: &RefundOutcome) -> Self {
        match outcome.clone() {
            RefundOutcome::Succeeded => Self::Succeeded,
            RefundOutcome::Pending => Self::Pending,
            RefundOutcome::Failed { code, message } => Self::Failed { code, message },
        }
    }
}

impl From<RefundStatus> for RefundOutcome {
    fn from(status: RefundStatus) -> Self {
        match status {
            RefundStatus::Succeeded => Self::Succeeded,
            RefundStatus::Pending => Self::Pending,
            RefundStatus::Failed { code, message } => Self::Failed { code, message },
        }
    }
}

/// What the simulator POSTs to `{gateway-url}/callbacks/simulator`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackBody {
    /// The event's id: the same for copies of one callback, new for every other one.
    pub id: String,
    #[serde(flatten)]
    pub about: CallbackAbout,
}

/// The subject of a callback, named by gatepost's own id, and its status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "object", rename_all = "snake_case")]
pub enum CallbackAbout {
    Authorization {
        attempt_id: AttemptId,
        reference: String,
        #[serde(flatten)]
        status: AuthorizationStatus,
    },
    Refund {
        refund_id: RefundId,
        reference: String,
        #[serde(flatten)]
        status: RefundStatus,
    },
}

/// The body of every non-2xx answer of the simulator.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorOut {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_signature_verifies_for_the_same_message_only() {
        let secret = SharedSecret::new("S");
        let header = secret.sign(NOW, "POST", "/v1/refunds", b"{}");
        assert_eq!(secret.verify(Some(&header), "POST", "/v1/refunds", b"{}", NOW), Ok(()));
        assert_eq!(secret.verify(Some(&header), "POST", "/v1/refunds", b"{ }", NOW), Err(SignatureError::Mismatch));
        assert_eq!(secret.verify(Some(&header), "GET", "/v1/refunds", b"{}", NOW), Err(SignatureError::Mismatch));
        assert_eq!(secret.verify(Some(&header), "POST", REFUNDS_PATH, b"{}", NOW + 1), Ok(()));
        let other = SharedSecret::new("T");
        assert_eq!(other.verify(Some(&header), "POST", "/v1/refunds", b"{}", NOW), Err(SignatureError::Mismatch));
    }

    #[test]
    fn signatures_expire_after_five_minutes_either_way() {
        let secret = SharedSecret::new("S");
        let header = secret.sign(NOW, "GET", "/v1/refunds/x", b"");
        assert_eq!(secret.verify(Some(&header), "GET", "/v1/refunds/x", b"", NOW + 300), Ok(()));
        assert_eq!(secret.verify(Some(&header), "GET", "/v1/refunds/x", b"", NOW + 301), Err(SignatureError::Outdated));
        assert_eq!(secret.verify(Some(&header), "GET", "/v1/refunds/x", b"", NOW - 301), Err(SignatureError::Outdated));
    }

    #[test]
    fn missing_or_garbled_headers_are_refused() {
        let secret = SharedSecret::new("S");
        assert_eq!(secret.verify(None, "GET", "/", b"", NOW), Err(SignatureError::Missing));
        for header in ["", "t=1", "v1=AAAA", "t=x,v1=AAAA", "t=1,v1=***", "garbage"] {
            assert_eq!(secret.verify(Some(header), "GET", "/", b"", NOW), Err(SignatureError::Malformed), "{header}");
        }
    }

    #[test]
    fn callbacks_have_one_flat_json_shape() {
        let attempt_id = AttemptId::parse("att_1").unwrap();
        let body = CallbackBody {
            id: "simevt_1".to_owned(),
            about: CallbackAbout::Authorization {
                attempt_id,
                reference: "sim_auth_1".to_owned(),
                status: AuthorizationStatus::Declined { code: "card_declined".to_owned(), message: "No.".to_owned() },
            },
        };
        let json = serde_json::to_value(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"id": "simevt_1", "object": "authorization", "attempt_id": "att_1",
                "reference": "sim_auth_1", "status": "declined", "code": "card_declined", "message": "No."})
        );
        assert_eq!(serde_json::from_value::<CallbackBody>(json).unwrap(), body);
    }

    #[test]
    fn a_declined_status_without_its_code_does_not_parse() {
        let json = serde_json::json!({"reference": "sim_auth_1", "status": "declined"});
        assert!(serde_json::from_value::<AuthorizationOut>(json).is_err());
    }

    #[test]
    fn card_debug_shows_only_the_last_four_digits() {
        let card =
            CardIn { number: "4242424242424242".to_owned(), exp_month: 1, exp_year: 2040, cvc: "123".to_owned() };
        let shown = format!("{card:?}");
        assert!(shown.contains("4242") && !shown.contains("42424242") && !shown.contains("123"), "{shown}");
    }

    #[test]
    fn references_are_url_safe() {
        assert!(is_reference("sim_auth_AbC-9"));
        assert!(!is_reference(""));
        assert!(!is_reference("../x"));
        assert!(!is_reference("a b"));
    }

    proptest::proptest! {
        #[test]
        fn any_signature_header_is_judged_without_panic(
            header in "\\PC{0,120}|t=-?[0-9]{1,20},v1=[A-Za-z0-9+/=]{0,50}",
            now in proptest::num::i64::ANY,
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..128),
        ) {
            let secret = SharedSecret::new("s");
            proptest::prop_assert!(secret.verify(Some(&header), "POST", "/callbacks/simulator", &body, now).is_err());
        }

        #[test]
        fn a_signed_request_verifies_within_the_tolerance_only(
            t in 0i64..4_102_444_800,
            skew in -600i64..600,
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..128),
        ) {
            let secret = SharedSecret::new("shared");
            let header = secret.sign(t, "POST", "/callbacks/simulator", &body);
            let verified = secret.verify(Some(&header), "POST", "/callbacks/simulator", &body, t + skew);
            proptest::prop_assert_eq!(verified.is_ok(), skew.abs() <= TOLERANCE_SECONDS);
        }
    }
}
