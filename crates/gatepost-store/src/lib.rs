//! Storage for gatepost, in domain words: one [`Store`] trait, two backends.
//!
//! The store persists; it decides nothing. Every rule (what a change does to a payment,
//! which events it emits, what a repeated idempotency key gets) is decided in
//! `gatepost-core`; the store loads, asks the domain, and writes what it returned in one
//! transaction.
//!
//! # Layout
//! - [`Store`]: everything the server asks of a database, in domain words.
//! - `tx`: the transaction interface ([`tx::Tx`]) and what a backend provides
//!   ([`tx::Backend`]: run an operation in a write transaction or on a reader).
//! - `database`: the one [`Store`] implementation, over any backend.
//! - the operations, each written once over `Tx`: `payments` (payments and attempts),
//!   `refunds`, `callbacks`, `idempotency`, `merchants`, `webhooks` (the outbox as the
//!   delivery worker and the events API see it), `endpoints` (a merchant's webhook
//!   endpoints) and `outbox` (writing an event with its destinations); `dashboard` holds
//!   the dashboard's users, sessions, sign-in links and audit log ([`DashboardStore`], which
//!   every [`Store`] is too).
//! - `sqlite/`: the embedded default. One writer thread commits in batches (group
//!   commit: one fsync for many requests), a small pool of readers serves queries.
//! - `postgres/`: for several gateway processes on one database.
//! - `rows`/`values`/`queries`: rows to domain types, domain types to column values, and
//!   the SQL both backends run.
//! - `migrations`: schema versions embedded in the binary, applied on start.

mod callbacks;
mod dashboard;
mod database;
mod endpoints;
mod error;
mod idempotency;
mod merchants;
mod migrations;
mod outbox;
mod payments;
mod postgres;
mod queries;
mod refunds;
mod rows;
mod sqlite;
mod tx;
mod values;
mod webhooks;

pub use callbacks::{CallbackChange, CallbackReceipt, CallbackResult};
pub use dashboard::{
    AuditEntry, DashboardStore, EndpointHealth, HEALTH_ATTEMPTS, LATENCY_SAMPLE, LinkHolder, OVERVIEW_SAMPLE,
    PaymentTotal, UserRefusal,
};
pub use endpoints::EndpointRefusal;
pub use error::StoreError;
pub use payments::ChangeOutcome;
pub use refunds::{DueRefund, RefundStart};
pub use webhooks::{
    ClaimScope, Delivery, DueDelivery, EventDestination, EventQuery, NextStep, ResendTo, StoredEvent, WebhookSigning,
};

use async_trait::async_trait;
use gatepost_core::changes::{NewAttempt, NewRefund, RefundSettlement, Settlement};
use gatepost_core::endpoints::{EndpointStatus, WebhookEndpoint};
use gatepost_core::idempotency::{IdempotencyClaim, StoredResponse};
use gatepost_core::ids::{ApiKeyId, AttemptId, EventId, MerchantId, PaymentId, RefundId, WebhookEndpointId};
use gatepost_core::payment::{ApiKey, ApiKeyRecord, Attempt, Merchant, Payment};
use gatepost_core::signing::WebhookSecret;
use gatepost_core::status::{PaymentEvent, PaymentStatus};
use gatepost_core::time::Timestamp;
use std::sync::Arc;

/// A merchant about to be stored, with the credentials made for it.
#[derive(Debug)]
pub struct NewMerchant {
    pub merchant: Merchant,
    /// Only the hash of the API key is ever stored (docs/reference/urls.md#secrets-and-keys).
    pub api_key_hash: String,
    /// The merchant's first key as it is listed.
    pub api_key: ApiKeyRecord,
    pub webhook_secret: WebhookSecret,
}

impl NewMerchant {
    /// `merchant` with a new API key (`sk_live_…` when `livemode`) and webhook secret, and
    /// the key itself, which is shown once and never stored.
    #[must_use]
    pub fn with_new_credentials(merchant: Merchant, livemode: bool) -> (Self, ApiKey) {
        let key = ApiKey::generate(livemode);
        let listed = ApiKeyRecord::of(&key, &merchant.id, None, merchant.created_at);
        let new =
            Self { merchant, api_key_hash: key.hash(), api_key: listed, webhook_secret: WebhookSecret::generate() };
        (new, key)
    }
}

/// Filters and cursor of `GET /v1/payments` (docs/reference/payments.md#listing-payments).
#[derive(Clone, Debug, Default)]
pub struct PaymentQuery {
    pub status: Option<PaymentStatus>,
    pub reference: Option<String>,
    /// Only payments older than this one (newest first).
    pub starting_after: Option<PaymentId>,
    /// Only payments created at or after this time…
    pub created_from: Option<Timestamp>,
    /// …and before this one. Both are answered from the id, which sorts by creation time.
    pub created_before: Option<Timestamp>,
    /// Only payments of this customer e-mail address (compared lowercased).
    pub customer_email: Option<String>,
    /// Only payments with a card attempt whose number ends in these 4 digits.
    pub card_last4: Option<String>,
    pub limit: u32,
}

/// One page of a list.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub has_more: bool,
}

/// What the hosted page needs to show a payment and sign its return.
#[derive(Clone, Debug)]
pub struct Checkout {
    pub payment: Payment,
    pub merchant_name: String,
    pub webhook_secret: WebhookSecret,
    /// The merchant's connector, which new attempts go to.
    pub connector: String,
}

/// What [`Store::start_attempt`] found.
#[derive(Debug)]
pub enum AttemptStart {
    /// The attempt is recorded (last in `payment.attempts`) and may go to the connector.
    Started(Payment),
    /// The form was already used, or the payment takes no more attempts: show it as it is.
    Stale(Payment),
    NotFound,
}

/// A pending attempt whose result is due to be asked for.
#[derive(Debug)]
pub struct DueAttempt {
    pub payment_id: PaymentId,
    pub attempt: Attempt,
}

/// Everything gatepost asks of its database.
#[async_trait]
pub trait Store: DashboardStore + Send + Sync + std::fmt::Debug {
    /// Signalled after every commit that wrote webhook events, so this process's delivery
    /// worker starts at once instead of waiting for its next poll
    /// (docs/reference/webhooks.md#at-least-once).
    fn outbox_signal(&self) -> Arc<tokio::sync::Notify>;

    /// Applies embedded migrations that have not run yet. Safe to call from several
    /// processes at once.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Whether the database answers (`/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    async fn create_merchant(&self, new: NewMerchant) -> Result<(), StoreError>;
    async fn list_merchants(&self) -> Result<Vec<Merchant>, StoreError>;
    /// The merchant of a key that is not revoked.
    async fn merchant_by_api_key_hash(&self, hash: &str) -> Result<Option<Merchant>, StoreError>;

    /// Adds a key, unless the merchant has [`gatepost_core::payment::MAX_API_KEYS_PER_MERCHANT`]
    /// keys that are not revoked (`false`).
    async fn create_api_key(&self, key: &ApiKeyRecord, hash: &str) -> Result<bool, StoreError>;

    /// A merchant's keys, revoked ones too, oldest first.
    async fn api_keys(&self, merchant: &MerchantId) -> Result<Vec<ApiKeyRecord>, StoreError>;

    /// Revokes a key of this merchant; `false` if it has no such key not yet revoked.
    async fn revoke_api_key(&self, merchant: &MerchantId, id: &ApiKeyId, now: Timestamp) -> Result<bool, StoreError>;

    /// Stores a new payment, committed to disk before it returns.
    async fn create_payment(&self, payment: &Payment) -> Result<(), StoreError>;

    /// A merchant's payment; `None` for another merchant's.
    async fn payment(&self, merchant: &MerchantId, id: &PaymentId) -> Result<Option<Payment>, StoreError>;

    async fn list_payments(&self, merchant: &MerchantId, query: &PaymentQuery) -> Result<Page<Payment>, StoreError>;

    /// Runs `event` through the status machine against the payment as it is in the
    /// database, and stores the outcome with its webhook events in one transaction.
    /// `merchant` scopes the payment to one merchant; `None` is for the gateway's own
    /// callers (hosted page, sweepers), which find payments by other means.
    async fn apply(
        &self,
        merchant: Option<&MerchantId>,
        id: &PaymentId,
        event: PaymentEvent,
        now: Timestamp,
    ) -> Result<ChangeOutcome, StoreError>;

    /// The payment behind a `checkout_url` token, with its merchant's name and secret.
    async fn checkout(&self, token: &str) -> Result<Option<Checkout>, StoreError>;

    /// Claims an attempt with the hosted page's current form token, in one transaction:
    /// of two submits of the same form, one starts an attempt and the other is `Stale`.
    async fn start_attempt(
        &self,
        payment: &PaymentId,
        form_token: &str,
        attempt: NewAttempt,
        now: Timestamp,
    ) -> Result<AttemptStart, StoreError>;

    /// Records an attempt's result and applies its effect through the status machine, in
    /// one transaction with the events. `challenge_token`, when given, must be the
    /// attempt's current 3-D Secure token. Late or repeated results are ignored
    /// (`Rejected`).
    async fn settle_attempt(
        &self,
        attempt: &AttemptId,
        challenge_token: Option<&str>,
        settlement: Settlement,
        now: Timestamp,
    ) -> Result<ChangeOutcome, StoreError>;

    /// Checks and reserves a refund in one transaction with the payment row locked, so that
    /// concurrent refunds never add up to more than was captured
    /// (docs/reference/payments.md#refunds).
    async fn start_refund(
        &self,
        merchant: &MerchantId,
        payment: &PaymentId,
        refund: NewRefund,
        now: Timestamp,
    ) -> Result<RefundStart, StoreError>;

    /// Records a refund's result and, when it succeeded, its effect on the payment with
    /// the `payment.refunded` event, in one transaction. Late or repeated results are
    /// ignored (`Rejected`).
    async fn settle_refund(
        &self,
        refund: &RefundId,
        settlement: RefundSettlement,
        now: Timestamp,
    ) -> Result<ChangeOutcome, StoreError>;

    /// Applies a provider callback once per provider event id
    /// (docs/reference/callbacks.md#callbacks): the receipt, the result and its events are
    /// one transaction, so a duplicate arriving at the same moment on another node finds
    /// the receipt and changes nothing.
    async fn settle_from_callback(
        &self,
        receipt: &CallbackReceipt,
        change: CallbackChange,
        now: Timestamp,
    ) -> Result<CallbackResult, StoreError>;

    /// Pending refunds whose connector should be asked for a result.
    async fn refunds_due_for_poll(&self, now: Timestamp, limit: u32) -> Result<Vec<DueRefund>, StoreError>;

    async fn reschedule_refund_poll(&self, refund: &RefundId, at: Timestamp) -> Result<(), StoreError>;

    /// Payments that are `OPEN` past `expires_at` or `AUTHORIZED` past their capture
    /// deadline (docs/reference/payments.md#capture-window).
    async fn payments_due_to_expire(&self, now: Timestamp, limit: u32) -> Result<Vec<PaymentId>, StoreError>;

    /// Pending attempts whose connector should be asked for a result.
    async fn attempts_due_for_poll(&self, now: Timestamp, limit: u32) -> Result<Vec<DueAttempt>, StoreError>;

    async fn reschedule_poll(&self, attempt: &AttemptId, at: Timestamp) -> Result<(), StoreError>;

    /// Attempts still waiting for 3-D Secure on payments past `expires_at`: the shopper
    /// left the issuer's page.
    async fn abandoned_challenges(&self, now: Timestamp, limit: u32) -> Result<Vec<DueAttempt>, StoreError>;

    /// Takes up to `limit` destinations of events whose next attempt is due, leasing them
    /// until `lease_until`: a worker that dies lets them come due again then. On PostgreSQL
    /// concurrent nodes never take the same one.
    async fn claim_due_events(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        scope: ClaimScope<'_>,
    ) -> Result<Vec<DueDelivery>, StoreError>;

    /// Skips claimed destinations (event id, position) whose endpoint was removed.
    async fn skip_destinations(&self, destinations: &[(EventId, u32)]) -> Result<(), StoreError>;

    /// Hands claimed destinations (event id, position) back unsent, due again at `at`.
    async fn release_events(&self, destinations: &[(EventId, u32)], at: Timestamp) -> Result<(), StoreError>;

    /// Records attempts and what follows each, in one transaction; an endpoint whose
    /// attempts have all failed for `disable_after` (and often enough) is turned off
    /// (docs/reference/webhooks.md#auto-disable).
    async fn record_deliveries(
        &self,
        attempts: &[(Delivery, NextStep)],
        disable_after: std::time::Duration,
    ) -> Result<(), StoreError>;

    /// How the payment URLs' webhooks of a merchant are signed and acknowledged.
    async fn webhook_signing(
        &self,
        merchant: &MerchantId,
        now: Timestamp,
    ) -> Result<Option<WebhookSigning>, StoreError>;

    /// How an endpoint's webhooks are signed and acknowledged; `None` once it is removed.
    async fn endpoint_signing(
        &self,
        endpoint: &WebhookEndpointId,
        now: Timestamp,
    ) -> Result<Option<WebhookSigning>, StoreError>;

    async fn event(&self, merchant: &MerchantId, id: &EventId) -> Result<Option<StoredEvent>, StoreError>;

    async fn list_events(&self, merchant: &MerchantId, query: &EventQuery) -> Result<Page<StoredEvent>, StoreError>;

    /// The attempts of one of the merchant's events, oldest first.
    async fn deliveries(&self, merchant: &MerchantId, event: &EventId) -> Result<Vec<Delivery>, StoreError>;

    /// Makes the event's destinations of `to` due now for one extra attempt; how many
    /// there were (none if the merchant has no such event).
    async fn request_resend(
        &self,
        merchant: &MerchantId,
        event: &EventId,
        to: ResendTo,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// The merchant's webhook endpoints, oldest first.
    async fn webhook_endpoints(&self, merchant: &MerchantId) -> Result<Vec<WebhookEndpoint>, StoreError>;

    async fn webhook_endpoint(
        &self,
        merchant: &MerchantId,
        id: &WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>, StoreError>;

    /// Stores a new endpoint with its secret, unless the merchant has as many as it may.
    async fn create_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        secret: &WebhookSecret,
    ) -> Result<Result<(), EndpointRefusal>, StoreError>;

    /// Saves an endpoint's settings; disabling it skips what was due for it.
    async fn update_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError>;

    /// Removes an endpoint; false when the merchant has no such endpoint.
    async fn delete_webhook_endpoint(&self, merchant: &MerchantId, id: &WebhookEndpointId) -> Result<bool, StoreError>;

    /// Gives an endpoint a new secret; the current one keeps signing until `previous_until`.
    /// False when the merchant has no such endpoint.
    async fn rotate_endpoint_secret(
        &self,
        merchant: &MerchantId,
        id: &WebhookEndpointId,
        new: &WebhookSecret,
        previous_until: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Stores a `webhook_endpoint.test` event for that endpoint alone.
    async fn send_test_event(
        &self,
        merchant: &MerchantId,
        id: &WebhookEndpointId,
        now: Timestamp,
    ) -> Result<Option<EventId>, StoreError>;

    /// Makes every event since `since` that was not delivered to the endpoint due again,
    /// oldest first; how many.
    async fn recover(
        &self,
        merchant: &MerchantId,
        id: &WebhookEndpointId,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<u64, StoreError>;

    /// How many endpoints are enabled and disabled (`/metrics`).
    async fn webhook_endpoint_counts(&self) -> Result<Vec<(EndpointStatus, u64)>, StoreError>;

    /// Events not delivered yet (`/metrics`).
    async fn webhook_backlog(&self) -> Result<u64, StoreError>;

    async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError>;

    /// Saves the merchant's settings (`PATCH /v1/merchant`:
    /// docs/reference/api.md#merchant-settings), with the default endpoint that
    /// `default_webhook_url` makes: refused when it would be one endpoint too many.
    async fn update_merchant(
        &self,
        merchant: &Merchant,
        now: Timestamp,
    ) -> Result<Result<(), EndpointRefusal>, StoreError>;

    /// Makes `new` the signing secret; the current one keeps signing until `previous_until`.
    async fn rotate_webhook_secret(
        &self,
        merchant: &MerchantId,
        new: &WebhookSecret,
        previous_until: Timestamp,
    ) -> Result<(), StoreError>;

    async fn claim_idempotency_key(
        &self,
        merchant: &MerchantId,
        key: &str,
        request_hash: &str,
        now: Timestamp,
    ) -> Result<IdempotencyClaim, StoreError>;

    /// Stores the response of the request that claimed `key` at `claimed_at`. A claim
    /// that was taken over since (its request outlived the lock) is not overwritten.
    async fn record_idempotent_response(
        &self,
        merchant: &MerchantId,
        key: &str,
        claimed_at: Timestamp,
        response: &StoredResponse,
    ) -> Result<(), StoreError>;

    /// Forgets idempotency keys older than the 24 hours they are replayed for; returns
    /// how many.
    async fn forget_expired_idempotency_keys(&self, now: Timestamp) -> Result<u64, StoreError>;

    /// Forgets the claim made at `claimed_at`, whose request failed unexpectedly, so a retry
    /// runs it again. A claim taken over since by another request is left alone: deleting
    /// it would let a third request run beside that one.
    async fn release_idempotency_key(
        &self,
        merchant: &MerchantId,
        key: &str,
        claimed_at: Timestamp,
    ) -> Result<(), StoreError>;
}

/// Opens the database named by `url`: `sqlite://PATH` or `postgres://…`
/// (docs/reference/configuration.md#storage).
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        Ok(Arc::new(database::Database::new(sqlite::Sqlite::open(path)?)))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(database::Database::new(postgres::Postgres::open(url)?)))
    } else {
        Err(StoreError::BadUrl)
    }
}
