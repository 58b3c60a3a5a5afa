//! The merchant side of gatepost (docs/reference/merchant-kit.md): verify webhooks and
//! return redirects, read typed events and payments, and call the API.
//!
//! # The recommended integration
//!
//! A payment reaches your shop by two channels. The **return redirect** brings the
//! shopper's browser back: it is for display, because a shopper can close the tab before
//! it happens, reload it, or bookmark it. The **webhook** is the gateway telling your
//! server, retried until you acknowledge it: that is what you fulfil from.
//!
//! 1. **Create the payment** from your server with [`Client::create_payment`], your order
//!    id as `reference` and as idempotency key. Store the `pay_…` id with the order and
//!    send the shopper to `checkout_url`.
//! 2. **Show the return page from your own database.** [`ReturnVerifier`] tells you which
//!    payment and order the shopper is coming back for, signed by the gateway; show the
//!    order as *your* database knows it (“paid”, or “we are confirming your payment”
//!    while the webhook has not arrived). Never ship from here.
//! 3. **Fulfil from the verified webhook.** [`Webhook::verify`] checks the signature
//!    over the raw body, the timestamp and parses the [`Event`]. Record the `webhook-id`
//!    in the same database transaction as the fulfilment, so that a redelivery does
//!    nothing twice (see [`SeenWebhooks`]); drop an event whose `sequence` is not above
//!    the last one you applied for that payment; answer `2xx` quickly.
//!    An endpoint that also subscribes to events about endpoints
//!    (`webhook_endpoint.disabled`) verifies with [`Webhook::verify_any`] instead.
//! 4. **Confirm with `GET /v1/payments/{id}`** ([`Client::retrieve_payment`]) whenever
//!    you must be sure: before shipping something valuable, on a return page whose
//!    webhook has not come yet, or when catching up with [`Client::list_events`].
//!
//! A webhook handler, whatever the web framework:
//!
//! ```
//! use gatepost_merchant::{EventType, InMemorySeenWebhooks, SeenWebhooks, Webhook};
//!
//! /// Answers the HTTP status for one delivery.
//! fn receive(webhook: &Webhook, seen: &impl SeenWebhooks, headers: &[(&str, &str)], body: &[u8]) -> u16 {
//!     let event = match webhook.verify(headers, body) {
//!         Ok(event) => event,
//!         // Not from the gateway, too old, or unreadable: refuse, the gateway retries.
//!         Err(_) => return 400,
//!     };
//!     if !seen.first_time(&event.id) {
//!         return 200; // a redelivery: done already
//!     }
//!     match event.event_type {
//!         EventType::Succeeded => { /* mark the order paid and ship it */ }
//!         EventType::Failed | EventType::Cancelled | EventType::Expired => { /* release the stock */ }
//!         _ => {} // types you do not handle, including ones added later: acknowledge them
//!     }
//!     200
//! }
//!
//! // A delivery as the gateway makes it, for this example.
//! let webhook = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?;
//! let body = br#"{"id":"evt_1","type":"payment.succeeded","timestamp":"2026-11-21T10:00:00.123Z","sequence":3,
//!                 "data":{"id":"pay_1","status":"SUCCESS","amount":1050,"currency":"EUR","reference":"order-1234"}}"#;
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs() as i64;
//! let (timestamp, signature) = (now.to_string(), webhook.sign("evt_1", now, body));
//! let headers =
//!     [("webhook-id", "evt_1"), ("webhook-timestamp", timestamp.as_str()), ("webhook-signature", signature.as_str())];
//!
//! let seen = InMemorySeenWebhooks::new();
//! assert_eq!(receive(&webhook, &seen, &headers, body), 200);
//! assert_eq!(receive(&webhook, &seen, &headers, b"{\"forged\":true}"), 400);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Features
//!
//! - `client` (default): [`Client`], on reqwest with rustls (ring) and tokio's timer.
//!   Turn default features off for verification and the typed objects alone, with no
//!   HTTP stack or async runtime.
//! - `http` (part of `client`): [`WebhookHeaders`] for `http::HeaderMap`, the header
//!   type of axum, hyper, reqwest and most Rust web frameworks.
//!
//! # Layout
//!
//! - [`Webhook`]: Standard Webhooks 1.0 verification and signing
//!   (docs/reference/webhooks.md#signature).
//! - [`ReturnVerifier`]: the signed return parameters
//!   (docs/reference/returns.md#verifying-a-return).
//! - [`Event`], [`Payment`] and their parts: the JSON objects, forward compatible
//!   (unknown fields ignored, unknown enum values kept as `Other`).
//! - [`SeenWebhooks`]: deduplication by `webhook-id`.
//! - [`Client`]: create and retrieve payments, list events (feature `client`).
//!
//! The kit shares no code with the gateway on purpose: it checks the gateway from the
//! outside, against the published test vectors, as any merchant's code would.
// The guide above links to the client, which is not there without its feature.
#![cfg_attr(not(feature = "client"), allow(rustdoc::broken_intra_doc_links))]

mod dedup;
mod endpoint;
mod event;
mod key;
mod open_enum;
mod payment;
mod problem;
mod returns;
mod webhook;

#[cfg(feature = "client")]
mod client;

#[cfg(feature = "client")]
pub use client::{Client, ClientError, EventQuery, Recovery, RetryPolicy, RotatedSecret};
pub use dedup::{InMemorySeenWebhooks, SeenWebhooks};
pub use endpoint::{
    DisabledReason, EndpointEvent, EndpointStatus, NewWebhookEndpoint, WebhookEndpoint, WebhookEndpointUpdate,
};
pub use event::{Delivery, DeliveryStatus, Event, EventData, EventDestination, EventRecord, EventType, WebhookEvent};
pub use key::InvalidSecret;
pub use payment::{
    Attempt, AttemptStatus, CaptureMode, Card, Customer, NewPayment, Payment, PaymentStatus, Refund, RefundStatus,
    ReturnMethod, ReturnUrls, ThreeDs,
};
pub use problem::{ApiError, FieldError, List};
pub use returns::{ReturnError, ReturnParams, ReturnVerifier};
pub use webhook::{Webhook, WebhookError, WebhookHeaders};
