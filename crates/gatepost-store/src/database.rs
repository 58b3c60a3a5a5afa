//! The one implementation of [`Store`]: each method runs its operation, written once
//! over [`Tx`], through a backend, and wakes the delivery worker after a commit that
//! wrote events.

use crate::callbacks::{self, CallbackChange, CallbackReceipt, CallbackResult};
use crate::endpoints::{self, EndpointRefusal};
use crate::payments::{self, ChangeOutcome};
use crate::refunds::{self, DueRefund, RefundStart};
use crate::tx::Backend;
use crate::values::payment_row;
use crate::webhooks::{
    self, ClaimScope, Delivery, DueDelivery, EventQuery, NextStep, ResendTo, ScopeFilter, StoredEvent, WebhookSigning,
};
use crate::{
    AttemptStart, Checkout, DueAttempt, NewMerchant, Page, PaymentQuery, Store, StoreError, idempotency, merchants,
};
use async_trait::async_trait;
use gatepost_core::changes::{NewAttempt, NewRefund, RefundSettlement, Reporter, Settlement};
use gatepost_core::endpoints::{EndpointStatus, WebhookEndpoint};
use gatepost_core::idempotency::{IdempotencyClaim, StoredResponse};
use gatepost_core::ids::{ApiKeyId, AttemptId, EventId, MerchantId, PaymentId, RefundId, WebhookEndpointId};
use gatepost_core::payment::{ApiKeyRecord, Merchant, Payment};
use gatepost_core::signing::WebhookSecret;
use gatepost_core::status::PaymentEvent;
use gatepost_core::time::{Clock as _, SystemClock, Timestamp};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Debug)]
pub(crate) struct Database<B> {
    backend: B,
    outbox: Arc<Notify>,
}

impl<B: Backend> Database<B> {
    pub(crate) fn new(backend: B) -> Self {
        Self { backend, outbox: Arc::default() }
    }

    pub(crate) fn backend(&self) -> &B {
        &self.backend
    }

    /// Wakes the delivery worker after a change that wrote events has committed.
    fn signal_if_applied(&self, outcome: &ChangeOutcome) {
        if matches!(outcome, ChangeOutcome::Applied { .. }) {
            self.outbox.notify_one();
        }
    }
}

#[async_trait]
impl<B: Backend> Store for Database<B> {
    fn outbox_signal(&self) -> Arc<Notify> {
        Arc::clone(&self.outbox)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.backend.migrate().await?;
        // A merchant's `default_webhook_url` from before endpoints existed gets its endpoint.
        self.backend.write(|tx| Box::pin(endpoints::sync_every_default(tx, SystemClock.now()))).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.backend.ping().await
    }

    async fn create_merchant(&self, new: NewMerchant) -> Result<(), StoreError> {
        self.backend
            .write(move |tx| {
                Box::pin(async move {
                    merchants::create(tx, &new).await?;
                    endpoints::sync_default(tx, &new.merchant, new.merchant.created_at)
                        .await?
                        .map_err(|_| StoreError::Corrupt("a new merchant has no endpoints".into()))
                })
            })
            .await
    }

    async fn list_merchants(&self) -> Result<Vec<Merchant>, StoreError> {
        self.backend.read(move |tx| Box::pin(merchants::list(tx))).await
    }

    async fn merchant_by_api_key_hash(&self, hash: &str) -> Result<Option<Merchant>, StoreError> {
        let hash = hash.to_owned();
        self.backend.read(move |tx| Box::pin(merchants::by_api_key_hash(tx, hash))).await
    }

    async fn create_api_key(&self, key: &ApiKeyRecord, hash: &str) -> Result<bool, StoreError> {
        let (key, hash) = (key.clone(), hash.to_owned());
        self.backend.write(move |tx| Box::pin(merchants::create_api_key(tx, key, hash))).await
    }

    async fn api_keys(&self, merchant: &MerchantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let merchant = merchant.clone();
        self.backend.read(move |tx| Box::pin(merchants::api_keys(tx, merchant))).await
    }

    async fn revoke_api_key(&self, merchant: &MerchantId, id: &ApiKeyId, now: Timestamp) -> Result<bool, StoreError> {
        let (merchant, id) = (merchant.clone(), id.clone());
        self.backend.write_statement(move |tx| Box::pin(merchants::revoke_api_key(tx, merchant, id, now))).await
    }

    async fn create_payment(&self, payment: &Payment) -> Result<(), StoreError> {
        let row = payment_row(payment);
        self.backend.write_statement(move |tx| Box::pin(payments::create_payment(tx, row))).await
    }

    async fn payment(&self, merchant: &MerchantId, id: &PaymentId) -> Result<Option<Payment>, StoreError> {
        let (merchant, id) = (merchant.clone(), id.clone());
        self.backend.read(move |tx| Box::pin(payments::payment(tx, merchant, id))).await
    }

    async fn list_payments(&self, merchant: &MerchantId, query: &PaymentQuery) -> Result<Page<Payment>, StoreError> {
        let (merchant, query) = (merchant.clone(), query.clone());
        self.backend.read(move |tx| Box::pin(payments::list_payments(tx, merchant, query))).await
    }

    async fn apply(
        &self,
        merchant: Option<&MerchantId>,
        id: &PaymentId,
        event: PaymentEvent,
        now: Timestamp,
    ) -> Result<ChangeOutcome, StoreError> {
        let (merchant, id) = (merchant.cloned(), id.clone());
        let outcome = self.backend.write(move |tx| Box::pin(payments::apply(tx, merchant, id, event, now))).await?;
        self.signal_if_applied(&outcome);
        Ok(outcome)
    }

    async fn checkout(&self, token: &str) -> Result<Option<Checkout>, StoreError> {
        let token = token.to_owned();
        self.backend.read(move |tx| Box::pin(payments::checkout(tx, token))).await
    }

    async fn start_attempt(
        &self,
        payment: &PaymentId,
        form_token: &str,
        attempt: NewAttempt,
        now: Timestamp,
    ) -> Result<AttemptStart, StoreError> {
        let (id, form_token) = (payment.clone(), form_token.to_owned());
        self.backend.write(move |tx| Box::pin(payments::start_attempt(tx, id, form_token, attempt, now))).await
    }

    async fn settle_attempt(
        &self,
        attempt: &AttemptId,
        challenge_token: Option<&str>,
        settlement: Settlement,
        now: Timestamp,
    ) -> Result<ChangeOutcome, StoreError> {
        let (attempt, token) = (attempt.clone(), challenge_token.map(str::to_owned));
        let outcome = self
            .backend
            .write(move |tx| {
                Box::pin(async move {
                    let reporter = Reporter::for_attempt(token.as_deref());
                    payments::settle_attempt(tx, &attempt, reporter, settlement, now).await
                })
            })
            .await?;
        self.signal_if_applied(&outcome);
        Ok(outcome)
    }

    async fn start_refund(
        &self,
        merchant: &MerchantId,
        payment: &PaymentId,
        refund: NewRefund,
        now: Timestamp,
    ) -> Result<RefundStart, StoreError> {
        let (merchant, payment) = (merchant.clone(), payment.clone());
        self.backend.write(move |tx| Box::pin(refunds::start_refund(tx, merchant, payment, refund, now))).await
    }

    async fn settle_refund(
        &self,
        refund: &RefundId,
        settlement: RefundSettlement,
        now: Timestamp,
    ) -> Result<ChangeOutcome, StoreError> {
        let refund = refund.clone();
        let outcome = self
            .backend
            .write(move |tx| {
                Box::pin(async move { refunds::settle_refund(tx, &refund, Reporter::Connector, settlement, now).await })
            })
            .await?;
        self.signal_if_applied(&outcome);
        Ok(outcome)
    }

    async fn settle_from_callback(
        &self,
        receipt: &CallbackReceipt,
        change: CallbackChange,
        now: Timestamp,
    ) -> Result<CallbackResult, StoreError> {
        let receipt = receipt.clone();
        let result =
            self.backend.write(move |tx| Box::pin(callbacks::settle_from_callback(tx, receipt, change, now))).await?;
        if let CallbackResult::Processed(outcome) = &result {
            self.signal_if_applied(outcome);
        }
        Ok(result)
    }

    async fn refunds_due_for_poll(&self, now: Timestamp, limit: u32) -> Result<Vec<DueRefund>, StoreError> {
        self.backend.read(move |tx| Box::pin(refunds::refunds_due_for_poll(tx, now, limit))).await
    }

    async fn reschedule_refund_poll(&self, refund: &RefundId, at: Timestamp) -> Result<(), StoreError> {
        let refund = refund.clone();
        self.backend.write_statement(move |tx| Box::pin(refunds::reschedule_refund_poll(tx, refund, at))).await
    }

    async fn payments_due_to_expire(&self, now: Timestamp, limit: u32) -> Result<Vec<PaymentId>, StoreError> {
        self.backend.read(move |tx| Box::pin(payments::payments_due_to_expire(tx, now, limit))).await
    }

    async fn attempts_due_for_poll(&self, now: Timestamp, limit: u32) -> Result<Vec<DueAttempt>, StoreError> {
        self.backend.read(move |tx| Box::pin(payments::attempts_due_for_poll(tx, now, limit))).await
    }

    async fn reschedule_poll(&self, attempt: &AttemptId, at: Timestamp) -> Result<(), StoreError> {
        let attempt = attempt.clone();
        self.backend.write_statement(move |tx| Box::pin(payments::reschedule_poll(tx, attempt, at))).await
    }

    async fn abandoned_challenges(&self, now: Timestamp, limit: u32) -> Result<Vec<DueAttempt>, StoreError> {
        self.backend.read(move |tx| Box::pin(payments::abandoned_challenges(tx, now, limit))).await
    }

    async fn claim_due_events(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
        scope: ClaimScope<'_>,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let scope = ScopeFilter::from(scope);
        // The claim is one statement; reading the claimed events after it changes nothing.
        self.backend.write_statement(move |tx| Box::pin(webhooks::claim_due(tx, now, lease_until, limit, scope))).await
    }

    async fn skip_destinations(&self, destinations: &[(EventId, u32)]) -> Result<(), StoreError> {
        if destinations.is_empty() {
            return Ok(());
        }
        let destinations = destinations.to_vec();
        self.backend.write(move |tx| Box::pin(webhooks::skip(tx, destinations))).await
    }

    async fn release_events(&self, destinations: &[(EventId, u32)], at: Timestamp) -> Result<(), StoreError> {
        if destinations.is_empty() {
            return Ok(());
        }
        let destinations = destinations.to_vec();
        self.backend.write(move |tx| Box::pin(webhooks::release(tx, destinations, at))).await
    }

    async fn record_deliveries(
        &self,
        attempts: &[(Delivery, NextStep)],
        disable_after: Duration,
    ) -> Result<(), StoreError> {
        let attempts = attempts.to_vec();
        let disabled = self.backend.write(move |tx| Box::pin(webhooks::record(tx, attempts, disable_after))).await?;
        if disabled {
            // An endpoint turned off wrote a notice for the merchant's other endpoints.
            self.outbox.notify_one();
        }
        Ok(())
    }

    async fn endpoint_signing(
        &self,
        endpoint: &WebhookEndpointId,
        now: Timestamp,
    ) -> Result<Option<WebhookSigning>, StoreError> {
        let endpoint = endpoint.clone();
        self.backend.read(move |tx| Box::pin(async move { endpoints::signing(tx, &endpoint, now).await })).await
    }

    async fn webhook_signing(
        &self,
        merchant: &MerchantId,
        now: Timestamp,
    ) -> Result<Option<WebhookSigning>, StoreError> {
        let merchant = merchant.clone();
        self.backend.read(move |tx| Box::pin(webhooks::signing(tx, merchant, now))).await
    }

    async fn event(&self, merchant: &MerchantId, id: &EventId) -> Result<Option<StoredEvent>, StoreError> {
        let (merchant, id) = (merchant.clone(), id.clone());
        self.backend.read(move |tx| Box::pin(webhooks::event(tx, merchant, id))).await
    }

    async fn list_events(&self, merchant: &MerchantId, query: &EventQuery) -> Result<Page<StoredEvent>, StoreError> {
        let (merchant, query) = (merchant.clone(), query.clone());
        self.backend.read(move |tx| Box::pin(webhooks::list(tx, merchant, query))).await
    }

    async fn deliveries(&self, merchant: &MerchantId, event: &EventId) -> Result<Vec<Delivery>, StoreError> {
        let (merchant, event) = (merchant.clone(), event.clone());
        self.backend.read(move |tx| Box::pin(webhooks::deliveries(tx, merchant, event))).await
    }

    async fn request_resend(
        &self,
        merchant: &MerchantId,
        event: &EventId,
        to: ResendTo,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let (merchant, event) = (merchant.clone(), event.clone());
        let count =
            self.backend.write(move |tx| Box::pin(webhooks::request_resend(tx, merchant, event, to, now))).await?;
        self.outbox.notify_one();
        Ok(count)
    }

    async fn webhook_endpoints(&self, merchant: &MerchantId) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let merchant = merchant.clone();
        self.backend.read(move |tx| Box::pin(async move { endpoints::list(tx, &merchant).await })).await
    }

    async fn webhook_endpoint(
        &self,
        merchant: &MerchantId,
        id: &WebhookEndpointId,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let (merchant, id) = (merchant.clone(), id.clone());
        self.backend.read(move |tx| Box::pin(async move { endpoints::by_id(tx, &merchant, &id).await })).await
    }

    async fn create_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpoint,
        secret: &WebhookSecret,
    ) -> Result<Result<(), EndpointRefusal>, StoreError> {
        let (endpoint, secret) = (endpoint.clone(), secret.clone());
        self.backend
            .write(move |tx| Box::pin(async move { endpoints::create(tx, &endpoint, Some(&secret)).await }))
            .await
    }

    async fn update_webhook_endpoint(&self, endpoint: &WebhookEndpoint) -> Result<(), StoreError> {
        let endpoint = endpoint.clone();
        self.backend.write(move |tx| Box::pin(async move { endpoints::update(tx, &endpoint).await })).await
    }

    async fn delete_webhook_endpoint(&self, merchant: &MerchantId, id: &WebhookEndpointId) -> Result<bool, StoreError> {
        let (merchant, id) = (merchant.clone(), id.clone());
        self.backend.write(move |tx| Box::pin(async move { endpoints::delete(tx, &merchant, &id).await })).await
    }

    async fn rotate_endpoint_secret(
        &self,
        merchant: &MerchantId,
        id: &WebhookEndpointId,
        new: &WebhookSecret,
        previous_until: Timestamp,
    ) -> Result<bool, StoreError> {
        let (merchant, id, new) = (merchant.clone(), id.clone(), new.clone());
        self.backend
            .write(move |tx| {
                Box::pin(async move { endpoints::rotate_secret(tx, &merchant, &id, &new, previous_until).await })
            })
            .await
    }

    async fn send_test_event(
        &self,
        merchant: &MerchantId,
        id: &WebhookEndpointId,
        now: Timestamp,
    ) -> Result<Option<EventId>, StoreError> {
        let (merchant, id) = (merchant.clone(), id.clone());
        let event = self
            .backend
            .write(move |tx| Box::pin(async move { endpoints::send_test(tx, &merchant, &id, now).await }))
            .await?;
        self.outbox.notify_one();
        Ok(event)
    }

    async fn recover(
        &self,
        merchant: &MerchantId,
        id: &WebhookEndpointId,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let (merchant, id) = (merchant.clone(), id.clone());
        let count = self.backend.write(move |tx| Box::pin(webhooks::recover(tx, merchant, id, since, now))).await?;
        self.outbox.notify_one();
        Ok(count)
    }

    async fn webhook_endpoint_counts(&self) -> Result<Vec<(EndpointStatus, u64)>, StoreError> {
        self.backend.read(move |tx| Box::pin(endpoints::count_by_status(tx))).await
    }

    async fn webhook_backlog(&self) -> Result<u64, StoreError> {
        self.backend.read(move |tx| Box::pin(webhooks::backlog(tx))).await
    }

    async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError> {
        let id = id.clone();
        self.backend.read(move |tx| Box::pin(merchants::by_id(tx, id))).await
    }

    async fn update_merchant(
        &self,
        merchant: &Merchant,
        now: Timestamp,
    ) -> Result<Result<(), EndpointRefusal>, StoreError> {
        let merchant = merchant.clone();
        self.backend
            .write(move |tx| {
                Box::pin(async move {
                    let refused = endpoints::sync_default(tx, &merchant, now).await?;
                    if refused.is_ok() {
                        merchants::update_settings(tx, merchant).await?;
                    }
                    Ok(refused)
                })
            })
            .await
    }

    async fn rotate_webhook_secret(
        &self,
        merchant: &MerchantId,
        new: &WebhookSecret,
        previous_until: Timestamp,
    ) -> Result<(), StoreError> {
        let (merchant, new) = (merchant.clone(), new.clone());
        self.backend
            .write_statement(move |tx| Box::pin(merchants::rotate_webhook_secret(tx, merchant, new, previous_until)))
            .await
    }

    async fn claim_idempotency_key(
        &self,
        merchant: &MerchantId,
        key: &str,
        request_hash: &str,
        now: Timestamp,
    ) -> Result<IdempotencyClaim, StoreError> {
        let (merchant, key, request_hash) = (merchant.clone(), key.to_owned(), request_hash.to_owned());
        // A new key is claimed by its insert alone; one that exists is judged under a lock.
        let new = (merchant.clone(), key.clone(), request_hash.clone());
        if self
            .backend
            .write_statement(move |tx| Box::pin(idempotency::claim_new(tx, new.0, new.1, new.2, now)))
            .await?
        {
            return Ok(IdempotencyClaim::Claimed);
        }
        self.backend.write(move |tx| Box::pin(idempotency::claim_existing(tx, merchant, key, request_hash, now))).await
    }

    async fn record_idempotent_response(
        &self,
        merchant: &MerchantId,
        key: &str,
        claimed_at: Timestamp,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let (merchant, key, response) = ((merchant.clone(), claimed_at), key.to_owned(), response.clone());
        self.backend
            .write_statement(move |tx| Box::pin(idempotency::record_response(tx, merchant, key, response)))
            .await
    }

    async fn forget_expired_idempotency_keys(&self, now: Timestamp) -> Result<u64, StoreError> {
        self.backend.write_statement(move |tx| Box::pin(idempotency::forget_expired(tx, now))).await
    }

    async fn release_idempotency_key(
        &self,
        merchant: &MerchantId,
        key: &str,
        claimed_at: Timestamp,
    ) -> Result<(), StoreError> {
        let (merchant, key) = ((merchant.clone(), claimed_at), key.to_owned());
        self.backend.write_statement(move |tx| Box::pin(idempotency::release(tx, merchant, key))).await
    }
}
