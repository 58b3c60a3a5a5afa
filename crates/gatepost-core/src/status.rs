//! The payment status machine (docs/reference/payments.md#transitions): the one function
//! that decides every move.
//!
//! Every path that changes a payment — the hosted page, a provider callback, a merchant
//! call, the expiry sweeper — asks [`transition`] first and stores exactly what it
//! answers, together with the events it names, in one transaction.

use crate::names::Named as _;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a payment stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    /// Waiting for the shopper; declined attempts may already exist.
    Open,
    /// An attempt awaits the provider or the card issuer.
    Pending,
    /// Funds reserved, waiting for capture.
    Authorized,
    /// Paid (captured).
    Success,
    /// No attempts left.
    Failed,
    /// Cancelled by the shopper or the merchant.
    Cancelled,
    /// Not completed in time.
    Expired,
    /// Fully refunded.
    Refunded,
}

impl PaymentStatus {
    /// Nothing leaves a final status (docs/reference/payments.md#statuses). `SUCCESS` is
    /// not final: it can be refunded.
    #[must_use]
    pub fn is_final(self) -> bool {
        matches!(self, Self::Failed | Self::Cancelled | Self::Expired | Self::Refunded)
    }

    /// The moves docs/reference/payments.md#transitions allows, written as that page lists
    /// them. [`transition`] never answers a move outside this list; the tests hold it to
    /// that.
    #[must_use]
    pub fn may_move_to(self, to: Self) -> bool {
        use PaymentStatus::{Authorized, Cancelled, Expired, Failed, Open, Pending, Refunded, Success};
        match self {
            Open => matches!(to, Pending | Authorized | Success | Failed | Cancelled | Expired),
            Pending => matches!(to, Open | Authorized | Success | Failed),
            Authorized => matches!(to, Success | Cancelled | Expired),
            Success => matches!(to, Refunded),
            Failed | Cancelled | Expired | Refunded => false,
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something that happened to a payment, from any source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaymentEvent {
    /// An attempt now waits for the provider or for 3-D Secure.
    AttemptPending,
    /// An attempt reserved the funds (manual capture).
    AttemptAuthorized,
    /// An attempt was authorized and captured (automatic capture).
    AttemptSucceeded,
    /// An attempt was declined or failed; `attempts_left` counts what remains after it.
    AttemptFailed { attempts_left: u8 },
    /// The shopper or the merchant cancels.
    Cancel,
    /// The merchant captured `amount` of the reserved funds (at most the payment's amount).
    Capture { amount: i64 },
    /// The payment ran out of time.
    Expire,
    /// A refund succeeded; `fully` when the whole captured amount is now refunded.
    Refund { fully: bool },
}

/// The webhook event types (docs/reference/webhooks.md#event-types).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr, strum::VariantArray,
)]
#[strum(serialize_all = "snake_case", prefix = "payment.")]
pub enum EventType {
    #[serde(rename = "payment.pending")]
    Pending,
    #[serde(rename = "payment.authorized")]
    Authorized,
    #[serde(rename = "payment.succeeded")]
    Succeeded,
    #[serde(rename = "payment.failed")]
    Failed,
    #[serde(rename = "payment.cancelled")]
    Cancelled,
    #[serde(rename = "payment.expired")]
    Expired,
    #[serde(rename = "payment.refunded")]
    Refunded,
    #[serde(rename = "payment.attempt_failed")]
    AttemptFailed,
}

/// What the machine decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Apply: the payment's status becomes `to` (possibly unchanged, as after a declined
    /// attempt with attempts left) and these events are written with it, in this order.
    Apply { to: PaymentStatus, events: &'static [EventType] },
    /// Not allowed from the current status. A merchant's request answers 409
    /// `invalid_state`; a late or duplicated provider result is recorded and ignored.
    Reject,
}

/// The status machine (docs/reference/payments.md#transitions) as one exhaustive function.
#[must_use]
pub fn transition(from: PaymentStatus, event: PaymentEvent) -> Decision {
    use EventType as E;
    use PaymentEvent::{
        AttemptAuthorized, AttemptFailed, AttemptPending, AttemptSucceeded, Cancel, Capture, Expire, Refund,
    };
    use PaymentStatus::{Authorized, Cancelled, Expired, Failed, Open, Pending, Refunded, Success};
    let apply = |to, events| Decision::Apply { to, events };
    match (from, event) {
        (Open, AttemptPending) => apply(Pending, &[E::Pending]),
        (Open | Pending, AttemptAuthorized) => apply(Authorized, &[E::Authorized]),
        (Open | Pending, AttemptSucceeded) => apply(Success, &[E::Succeeded]),
        (Open | Pending, AttemptFailed { attempts_left: 0 }) => apply(Failed, &[E::AttemptFailed, E::Failed]),
        (Open | Pending, AttemptFailed { .. }) => apply(Open, &[E::AttemptFailed]),
        (Open | Authorized, Cancel) => apply(Cancelled, &[E::Cancelled]),
        (Open | Authorized, Expire) => apply(Expired, &[E::Expired]),
        (Authorized, Capture { .. }) => apply(Success, &[E::Succeeded]),
        (Success, Refund { fully: true }) => apply(Refunded, &[E::Refunded]),
        (Success, Refund { fully: false }) => apply(Success, &[E::Refunded]),
        (Pending, AttemptPending | Cancel | Expire | Capture { .. } | Refund { .. })
        | (Open, Capture { .. } | Refund { .. })
        | (Authorized, AttemptPending | AttemptAuthorized | AttemptSucceeded)
        | (Authorized, AttemptFailed { .. } | Refund { .. })
        | (Success, AttemptPending | AttemptAuthorized | AttemptSucceeded)
        | (Success, AttemptFailed { .. } | Cancel | Capture { .. } | Expire)
        | (Failed | Cancelled | Expired | Refunded, _) => Decision::Reject,
    }
}

#[cfg(test)]
mod tests;
