//! What the webhook outbox records about delivery (docs/reference/webhooks.md): where an
//! event stands, why an attempt failed, and who asked for it.

use serde::{Deserialize, Serialize};

/// Where an event's delivery stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    /// Due, or waiting for its next attempt.
    Pending,
    /// A receiver acknowledged it.
    Delivered,
    /// The retry schedule ran out, or the receiver answered `410 Gone`.
    Failed,
    /// There was no webhook URL to send it to.
    Skipped,
}

/// Why an attempt did not deliver (docs/reference/webhooks.md#what-an-attempt-records).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DeliveryError {
    /// No answer within the webhook timeout.
    Timeout,
    /// The receiver's host refused the connection.
    ConnectionRefused,
    /// Any other failure to connect or to exchange the request.
    ConnectionError,
    /// The URL resolves to an address webhooks may not go to.
    BlockedAddress,
    /// The URL can no longer be parsed.
    InvalidUrl,
    /// A 2xx whose body is not the acknowledgement the merchant asked for.
    InvalidAck,
    /// A 3xx: redirects are not followed.
    Redirect,
    /// `410 Gone`: the receiver asks for no more attempts.
    Gone,
    /// Any other status that is not a 2xx.
    HttpStatus,
}

/// Who asked for an attempt.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Trigger {
    /// The retry schedule.
    Automatic,
    /// The merchant's resend.
    Manual,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{Named as _, serde_names_agree};

    #[test]
    fn names_are_those_of_the_events_api() {
        assert!(serde_names_agree::<DeliveryStatus>());
        assert!(serde_names_agree::<DeliveryError>());
        assert!(serde_names_agree::<Trigger>());
        assert_eq!(DeliveryError::ConnectionRefused.as_str(), "connection_refused");
        assert_eq!(DeliveryStatus::Skipped.as_str(), "SKIPPED");
    }
}
