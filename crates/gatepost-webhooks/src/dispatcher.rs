//! The delivery worker: takes due events from the database, sends them with bounded
//! concurrency, and records every attempt. The database is the only record of what is
//! due, so restarts, crashes and several processes lose nothing; a wake-up from the
//! store after each commit starts first attempts at once.

use crate::client::WebhookClient;
use crate::deliver::attempt;
use crate::destinations::{Destinations, destination_of};
use crate::metrics::WebhookMetrics;
use crate::schedule::RetrySchedule;
use gatepost_core::ids::{EventId, MerchantId};
use gatepost_core::time::Clock;
use gatepost_store::{ClaimScope, Store, StoredEvent, WebhookSigning};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;

/// How many events one claim takes.
const CLAIM_BATCH: u32 = 256;
/// Attempts in flight at once per process, over all destinations; each destination has
/// a share of it at most (`max_in_flight_per_destination`).
const MAX_IN_FLIGHT: usize = 1024;
/// Finished attempts waiting to be recorded; a full queue holds the attempts back.
const RECORD_QUEUE: usize = 4096;
/// How many finished attempts one write records.
const RECORD_BATCH: usize = 256;
/// How often the worker looks for due retries (and other nodes' events) when nothing
/// wakes it; first attempts never wait for this.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// A claimed event may be taken again once its lease ends — if the worker that claimed it
/// died. The lease covers the attempt's timeout twice over and a second to record it.
fn lease(timeout: Duration) -> Duration {
    timeout * 2 + Duration::from_secs(1)
}

/// Everything the worker needs.
#[derive(Clone, Debug)]
pub struct Dispatcher {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub client: WebhookClient,
    pub schedule: RetrySchedule,
    pub timeout: Duration,
    pub metrics: WebhookMetrics,
    /// Attempts in flight at once to one destination (scheme, host and port).
    pub max_in_flight_per_destination: usize,
}

/// A finished attempt on its way to the database.
type Finished = (gatepost_store::Delivery, gatepost_store::NextStep);

/// Records finished attempts in batches, one write each, until every sender is gone.
async fn record(store: Arc<dyn Store>, mut finished: mpsc::Receiver<Finished>) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while finished.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        if let Err(error) = store.record_deliveries(&batch).await {
            tracing::warn!(%error, attempts = batch.len(), "recording webhook attempts one by one");
            record_one_by_one(store.as_ref(), &mut batch).await;
        }
        batch.clear();
    }
}

/// Records each attempt of a batch that failed as a whole, so that one row the database
/// refuses cannot keep the others unrecorded. An attempt that still fails is recorded
/// once more without its response body; only if that fails too (the database is down)
/// is it left to its lease, and the event is tried again: at least once holds, and a
/// row that can never be written never makes its event — or anyone else's — a loop.
async fn record_one_by_one(store: &dyn Store, batch: &mut [Finished]) {
    for attempt in batch.iter_mut() {
        if store.record_deliveries(std::slice::from_ref(attempt)).await.is_ok() {
            continue;
        }
        attempt.0.response_body = String::new();
        if let Err(error) = store.record_deliveries(std::slice::from_ref(attempt)).await {
            tracing::error!(%error, event = %attempt.0.event_id, "could not record a webhook attempt");
        }
    }
}

impl Dispatcher {
    /// Delivers until `stop` turns true, then waits for attempts in flight.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let (finished, to_record) = mpsc::channel(RECORD_QUEUE);
        let recorder = tokio::spawn(record(Arc::clone(&self.store), to_record));
        // Shared by every attempt task without copying the settings.
        let destinations = Arc::new(Destinations::new(self.max_in_flight_per_destination));
        let this = Arc::new(self);
        let wake = this.store.outbox_signal();
        let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut in_flight = JoinSet::new();
        while !*stop.borrow() {
            let busy = destinations.busy();
            let mut more_due = Arc::clone(&this)
                .claim_and_send(
                    ClaimScope::AllBut(&busy),
                    CLAIM_BATCH,
                    &permits,
                    &destinations,
                    &mut in_flight,
                    &finished,
                )
                .await;
            for (prefix, slots) in destinations.refills() {
                let slots = u32::try_from(slots).unwrap_or(u32::MAX);
                let filled = Arc::clone(&this)
                    .claim_and_send(
                        ClaimScope::Only(&prefix),
                        slots,
                        &permits,
                        &destinations,
                        &mut in_flight,
                        &finished,
                    )
                    .await;
                if filled {
                    more_due = true;
                } else {
                    destinations.drained(&prefix);
                }
            }
            while in_flight.try_join_next().is_some() {}
            if more_due {
                continue;
            }
            tokio::select! {
                () = wake.notified() => {}
                () = destinations.refill.notified() => {}
                () = tokio::time::sleep(POLL_INTERVAL) => {}
                _ = stop.changed() => {}
            }
        }
        while in_flight.join_next().await.is_some() {}
        drop(finished);
        let _ = recorder.await;
    }

    /// Claims up to `limit` events within `scope` and starts an attempt for each whose
    /// destination has a slot free; the others go back to the database for later. Returns
    /// whether more may be due right now: the batch was full, or every attempt slot was busy.
    async fn claim_and_send(
        self: Arc<Self>,
        scope: ClaimScope<'_>,
        limit: u32,
        permits: &Arc<Semaphore>,
        destinations: &Arc<Destinations>,
        in_flight: &mut JoinSet<()>,
        finished: &mpsc::Sender<Finished>,
    ) -> bool {
        // Only claim what can be sent now: a claimed event waits for its lease otherwise.
        let free = u32::try_from(permits.available_permits()).unwrap_or(0).min(limit);
        if free == 0 {
            // Wait for a slot, then look again.
            let _ = permits.clone().acquire_owned().await;
            return true;
        }
        let now = self.clock.now();
        let lease_until = now.plus_millis(i64::try_from(lease(self.timeout).as_millis()).unwrap_or(i64::MAX));
        let events = match self.store.claim_due_events(now, lease_until, free, scope).await {
            Ok(events) => events,
            Err(error) => {
                tracing::error!(%error, "could not claim due webhook events");
                tokio::time::sleep(POLL_INTERVAL).await;
                return false;
            }
        };
        let full = events.len() == free as usize;
        let mut signings: HashMap<MerchantId, Option<WebhookSigning>> = HashMap::new();
        let mut handed_back: HashMap<Duration, Vec<EventId>> = HashMap::new();
        for event in events {
            let destination = event.url.as_deref().and_then(destination_of);
            if let Some(prefix) = &destination
                && !destinations.try_take(prefix)
            {
                destinations.handed_back(prefix);
                handed_back.entry(destinations.defer_for(prefix)).or_default().push(event.id.clone());
                continue;
            }
            let signing = match signings.get(&event.merchant_id) {
                Some(signing) => signing.clone(),
                None => {
                    let signing = self.store.webhook_signing(&event.merchant_id, now).await.unwrap_or_else(|error| {
                        tracing::error!(%error, "could not read a merchant's webhook secret");
                        None
                    });
                    signings.insert(event.merchant_id.clone(), signing.clone());
                    signing
                }
            };
            let Some(signing) = signing else {
                if let Some(prefix) = &destination {
                    destinations.finish(prefix, true);
                }
                continue;
            };
            let permit = permits.clone().acquire_owned().await.expect("the semaphore is never closed");
            let (worker, finished, destinations) = (Arc::clone(&self), finished.clone(), Arc::clone(destinations));
            in_flight.spawn(async move {
                let attempted = worker.deliver(event, signing).await;
                if let Some(prefix) = &destination {
                    destinations.finish(prefix, attempted.0.status_code.is_some());
                }
                // Closed only at shutdown, after every attempt task has ended.
                let _ = finished.send(attempted).await;
                drop(permit);
            });
        }
        for (defer, ids) in handed_back {
            let due = now.plus_millis(i64::try_from(defer.as_millis()).unwrap_or(i64::MAX));
            if let Err(error) = self.store.release_events(&ids, due).await {
                // Their lease runs out instead, and they are claimed again then.
                tracing::warn!(%error, events = ids.len(), "could not hand back events of a busy destination");
            }
        }
        full
    }

    #[tracing::instrument(skip_all, fields(event = %event.id, payment = %event.payment_id, attempt = event.attempts + 1))]
    async fn deliver(&self, event: StoredEvent, signing: WebhookSigning) -> Finished {
        let now = self.clock.now();
        let attempted = attempt(&self.client, &event, &signing, &self.schedule, now).await;
        let delivery = attempted.delivery;
        tracing::info!(
            status = delivery.status_code,
            error = delivery.error.as_deref(),
            duration_ms = delivery.duration_ms,
            next = ?attempted.next,
            "webhook attempt"
        );
        self.metrics.record_attempt(attempted.outcome, delivery.duration_ms, &event, now, &attempted.next);
        (delivery, attempted.next)
    }
}
