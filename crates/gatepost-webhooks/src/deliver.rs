//! One delivery attempt: sign, send, judge, and decide what comes next.

use crate::ack::{Verdict, judge};
use crate::client::{WebhookClient, is_blocked, literal_address_allowed};
use crate::schedule::{RetrySchedule, parse_retry_after};
use gatepost_core::delivery::{DeliveryError, DeliveryStatus, Trigger};
use gatepost_core::ids::DeliveryId;
use gatepost_core::payment::AckMode;
use gatepost_core::time::Timestamp;
use gatepost_store::{Delivery, DueDelivery, NextStep, WebhookSigning};
use std::time::Instant;

/// How much of a response body is kept in the deliveries log.
const KEPT_BODY_BYTES: usize = 4096;
/// How much of a response body is read at most, to judge an `echo` acknowledgement.
const READ_BODY_BYTES: usize = 64 * 1024;

/// The `webhook-signature` header: the current secret's signature, and during a rotation
/// the previous secret's too, space-separated (docs/reference/webhooks.md#secret-rotation).
#[must_use]
pub fn signature_header(signing: &WebhookSigning, id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut header = signing.secret.sign_webhook(id, timestamp, body);
    if let Some(previous) = &signing.previous {
        header.push(' ');
        header.push_str(&previous.sign_webhook(id, timestamp, body));
    }
    header
}

/// What the deliveries log keeps of a response body: its first 4 KiB as text that every
/// backend stores as it is. A receiver may answer anything — invalid UTF-8, a character
/// cut by the 4 KiB limit, NUL bytes (which PostgreSQL's `TEXT` refuses) — so each byte
/// that is not valid text becomes U+FFFD, and so does NUL.
#[must_use]
pub fn response_excerpt(body: &[u8]) -> String {
    let kept = String::from_utf8_lossy(&body[..body.len().min(KEPT_BODY_BYTES)]);
    if kept.contains('\0') { kept.replace('\0', "\u{FFFD}") } else { kept.into_owned() }
}

/// The outcome of one attempt, ready to record.
#[derive(Debug)]
pub struct Attempted {
    pub delivery: Delivery,
    pub next: NextStep,
    /// `delivered`, `failed` or `blocked`: the `outcome` label of the attempts metric.
    pub outcome: &'static str,
}

/// Sends an event once to one of its destinations and decides what follows.
pub async fn attempt(
    client: &WebhookClient,
    due: &DueDelivery,
    signing: &WebhookSigning,
    schedule: &RetrySchedule,
    now: Timestamp,
) -> Attempted {
    let url = signing.url.clone().unwrap_or_else(|| due.destination.url.clone());
    let started = Instant::now();
    let Answer { status_code, body, error, verdict } = send(client, due, signing, &url, now).await;
    let delivery = Delivery {
        id: DeliveryId::generate(),
        event_id: due.event.id.clone(),
        position: due.destination.position,
        endpoint_id: due.destination.endpoint_id.clone(),
        url,
        attempted_at: now,
        duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
        status_code,
        error,
        response_body: response_excerpt(&body),
        trigger: if due.destination.resend_requested { Trigger::Manual } else { Trigger::Automatic },
    };
    let next = next_step(due, &verdict, schedule, now);
    let outcome = match (&verdict, error) {
        (Verdict::Delivered, _) => "delivered",
        (_, Some(DeliveryError::BlockedAddress)) => "blocked",
        _ => "failed",
    };
    Attempted { delivery, next, outcome }
}

/// What came back from one request: the receiver's status and body when it answered,
/// why the attempt did not deliver, and the verdict.
struct Answer {
    status_code: Option<u16>,
    body: Vec<u8>,
    error: Option<DeliveryError>,
    verdict: Verdict,
}

impl Answer {
    /// No answer at all: the request failed before the receiver said anything.
    fn none(error: DeliveryError) -> Self {
        Self { status_code: None, body: Vec::new(), error: Some(error), verdict: Verdict::Retry { retry_after: None } }
    }
}

async fn send(
    client: &WebhookClient,
    due: &DueDelivery,
    signing: &WebhookSigning,
    url: &str,
    now: Timestamp,
) -> Answer {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Answer::none(DeliveryError::InvalidUrl);
    };
    if client.guard && !literal_address_allowed(&parsed) {
        return Answer::none(DeliveryError::BlockedAddress);
    }
    let event = &due.event;
    let timestamp = now.unix_seconds();
    let request = client
        .http
        .post(parsed)
        .header("content-type", "application/json")
        .header("webhook-id", event.id.as_str())
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature_header(signing, event.id.as_str(), timestamp, &event.body))
        .body(event.body.clone());
    let mut response = match request.send().await {
        Ok(response) => response,
        Err(error) => return Answer::none(error_kind(&error)),
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, now.to_system_time()));
    let mut body = Vec::new();
    let mut read_error = None;
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() >= READ_BODY_BYTES {
                    break;
                }
            }
            Ok(None) => break,
            Err(error) => {
                read_error = Some(error_kind(&error));
                break;
            }
        }
    }
    // An event about an endpoint has no payment to echo: any 2xx acknowledges it.
    let (mode, payment_id) = match &event.payment_id {
        Some(id) => (signing.ack_mode, id.as_str()),
        None => (AckMode::Status, ""),
    };
    let (verdict, error) = match read_error {
        // An answer cut short (timeout while reading) is no acknowledgement.
        Some(kind) => (Verdict::Retry { retry_after: None }, Some(kind)),
        None => judge(status, &body, mode, payment_id, retry_after),
    };
    Answer { status_code: Some(status), body, error, verdict }
}

fn error_kind(error: &reqwest::Error) -> DeliveryError {
    if is_blocked(error) {
        DeliveryError::BlockedAddress
    } else if error.is_timeout() {
        DeliveryError::Timeout
    } else if error.is_connect() {
        let refused = std::error::Error::source(error)
            .and_then(|e| e.source())
            .and_then(|e| e.downcast_ref::<std::io::Error>())
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused);
        if refused { DeliveryError::ConnectionRefused } else { DeliveryError::ConnectionError }
    } else {
        DeliveryError::ConnectionError
    }
}

/// What follows the attempt (docs/reference/webhooks.md#retries). A manual resend to a
/// destination that had already ended only changes it when it succeeds.
fn next_step(due: &DueDelivery, verdict: &Verdict, schedule: &RetrySchedule, now: Timestamp) -> NextStep {
    let ended = due.destination.status != DeliveryStatus::Pending;
    match verdict {
        Verdict::Delivered => NextStep::Delivered,
        _ if ended => NextStep::Unchanged,
        Verdict::Gone => NextStep::Failed,
        Verdict::Retry { retry_after } => match schedule.next_delay(due.destination.attempts + 1) {
            None => NextStep::Failed,
            Some(delay) => {
                // The receiver's own Retry-After (already capped at 24 h) wins.
                let wait = retry_after.unwrap_or(delay);
                NextStep::RetryAt(now.plus(wait))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::response_excerpt;

    #[test]
    fn an_excerpt_is_text_without_nul_whatever_the_receiver_answered() {
        assert_eq!(response_excerpt(b"ok"), "ok");
        assert_eq!(response_excerpt(b"ok\0bad"), "ok\u{FFFD}bad");
        assert_eq!(response_excerpt(&[0xff, b'a', 0xc3]), "\u{FFFD}a\u{FFFD}");
    }

    #[test]
    fn an_excerpt_keeps_4_kib_even_when_that_cuts_a_character() {
        let mut body = vec![b'a'; 4095];
        body.extend_from_slice("é and more".as_bytes());
        let excerpt = response_excerpt(&body);
        assert!(excerpt.starts_with(&"a".repeat(4095)));
        assert_eq!(excerpt.chars().count(), 4096, "the cut half of é is one replacement character");
        assert!(excerpt.ends_with('\u{FFFD}'));
    }
}
