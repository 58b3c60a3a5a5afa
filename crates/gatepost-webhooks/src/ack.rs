//! What the receiver's answer means (docs/reference/webhooks.md#acknowledgement).

use gatepost_core::delivery::DeliveryError;
use gatepost_core::payment::AckMode;
use std::time::Duration;

/// The verdict on one delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Acknowledged: stop.
    Delivered,
    /// Not acknowledged: try again on schedule, or after `retry_after` if the receiver
    /// asked for it.
    Retry { retry_after: Option<Duration> },
    /// `410 Gone`: the receiver wants no more of this event.
    Gone,
}

/// Why an answer was not an acknowledgement, as recorded on the delivery.
#[must_use]
pub fn judge(
    status: u16,
    body: &[u8],
    mode: AckMode,
    payment_id: &str,
    retry_after: Option<Duration>,
) -> (Verdict, Option<DeliveryError>) {
    match status {
        200..=299 => match mode {
            AckMode::Status => (Verdict::Delivered, None),
            AckMode::Echo if echoes(body, payment_id) => (Verdict::Delivered, None),
            AckMode::Echo => (Verdict::Retry { retry_after: None }, Some(DeliveryError::InvalidAck)),
        },
        // Redirects are not followed: a receiver that moved must be updated by its owner.
        300..=399 => (Verdict::Retry { retry_after: None }, Some(DeliveryError::Redirect)),
        410 => (Verdict::Gone, Some(DeliveryError::Gone)),
        429 | 503 => (Verdict::Retry { retry_after }, Some(DeliveryError::HttpStatus)),
        _ => (Verdict::Retry { retry_after: None }, Some(DeliveryError::HttpStatus)),
    }
}

/// `echo` mode: the body is JSON whose `payment_reference` is the event's payment.
fn echoes(body: &[u8], payment_id: &str) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .is_some_and(|json| json.get("payment_reference").and_then(|v| v.as_str()) == Some(payment_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_2xx_acknowledges_in_status_mode() {
        for status in [200, 201, 204, 299] {
            assert_eq!(judge(status, b"", AckMode::Status, "pay_1", None).0, Verdict::Delivered);
        }
    }

    #[test]
    fn echo_mode_needs_the_payment_reference_back() {
        let echo = br#"{"payment_reference":"pay_1"}"#;
        assert_eq!(judge(200, echo, AckMode::Echo, "pay_1", None).0, Verdict::Delivered);
        assert_eq!(
            judge(200, b"ok", AckMode::Echo, "pay_1", None),
            (Verdict::Retry { retry_after: None }, Some(DeliveryError::InvalidAck))
        );
        let other = br#"{"payment_reference":"pay_2"}"#;
        assert_eq!(judge(200, other, AckMode::Echo, "pay_1", None).1, Some(DeliveryError::InvalidAck));
    }

    #[test]
    fn redirects_and_errors_retry_and_410_stops() {
        assert_eq!(judge(301, b"", AckMode::Status, "p", None).0, Verdict::Retry { retry_after: None });
        assert_eq!(judge(500, b"", AckMode::Status, "p", None).0, Verdict::Retry { retry_after: None });
        assert_eq!(judge(410, b"", AckMode::Status, "p", None).0, Verdict::Gone);
    }

    #[test]
    fn retry_after_counts_only_on_429_and_503() {
        let later = Some(Duration::from_secs(30));
        assert_eq!(judge(429, b"", AckMode::Status, "p", later).0, Verdict::Retry { retry_after: later });
        assert_eq!(judge(503, b"", AckMode::Status, "p", later).0, Verdict::Retry { retry_after: later });
        assert_eq!(judge(500, b"", AckMode::Status, "p", later).0, Verdict::Retry { retry_after: None });
    }
}
