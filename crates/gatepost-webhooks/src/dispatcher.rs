//! The delivery worker: takes due events from the database, sends them with bounded
//! concurrency, and records every attempt. The database is the only record of what is
//! due, so restarts, crashes and several processes lose nothing; a wake-up from the
//! store after each commit starts first attempts at once.

use crate::client::WebhookClient;
use crate::deliver::attempt;
use crate::destinations::{Destinations, Next, Placed, QUEUED_PER_SLOT};
use crate::metrics::WebhookMetrics;
use crate::schedule::RetrySchedule;
use gatepost_core::ids::{EventId, MerchantId, WebhookEndpointId};
use gatepost_core::names::Named as _;
use gatepost_core::time::Clock;
use gatepost_store::{ClaimScope, DueDelivery, Store, WebhookSigning};
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
/// How many claimed events one statement hands back.
const HAND_BACK_CHUNK: usize = 1000;
/// How many finished attempts one write records.
const RECORD_BATCH: usize = 256;
/// How often the worker looks for due retries (and other nodes' events) when nothing
/// wakes it; first attempts never wait for this.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// A claimed event may be taken again once its lease ends — if the worker that claimed it
/// died. An event may wait in its destination's queue for as many attempts as the queue
/// holds per slot, then take its own: the lease covers those with one attempt to spare,
/// and a second to record it.
fn lease(timeout: Duration) -> Duration {
    let attempts = u32::try_from(QUEUED_PER_SLOT).unwrap_or(u32::MAX).saturating_add(2);
    timeout * attempts + Duration::from_secs(1)
}

/// A claimed destination of an event with what signs it, waiting for or taking a slot.
type Claimed = (DueDelivery, WebhookSigning);

/// A claimed destination as the database names it: its event and its place among the
/// event's destinations.
type DestinationKey = (EventId, u32);

fn key_of(due: &DueDelivery) -> DestinationKey {
    (due.event.id.clone(), due.destination.position)
}

/// Who signs a destination's webhooks: an endpoint, or the merchant for a payment's URL.
type Signer = (MerchantId, Option<WebhookEndpointId>);

/// What signs a claimed destination.
#[derive(Clone)]
enum Signing {
    Ready(WebhookSigning),
    /// Its endpoint (or merchant) no longer exists.
    Gone,
    /// The database could not say.
    Unknown,
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
    /// How long an endpoint's attempts may all fail before it is turned off
    /// (docs/reference/webhooks.md#auto-disable).
    pub disable_after: Duration,
}

/// A finished attempt on its way to the database.
type Finished = (gatepost_store::Delivery, gatepost_store::NextStep);

/// Records finished attempts in batches, one write each, until every sender is gone.
async fn record(store: Arc<dyn Store>, mut finished: mpsc::Receiver<Finished>, disable_after: Duration) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while finished.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        if let Err(error) = store.record_deliveries(&batch, disable_after).await {
            tracing::warn!(%error, attempts = batch.len(), "recording webhook attempts one by one");
            record_one_by_one(store.as_ref(), &mut batch, disable_after).await;
        }
        batch.clear();
    }
}

/// Records each attempt of a batch that failed as a whole, so that one row the database
/// refuses cannot keep the others unrecorded. An attempt that still fails is recorded
/// once more without its response body; only if that fails too (the database is down)
/// is it left to its lease, and the event is tried again: at least once holds, and a
/// row that can never be written never makes its event — or anyone else's — a loop.
async fn record_one_by_one(store: &dyn Store, batch: &mut [Finished], disable_after: Duration) {
    for attempt in batch.iter_mut() {
        if store.record_deliveries(std::slice::from_ref(attempt), disable_after).await.is_ok() {
            continue;
        }
        attempt.0.response_body = String::new();
        if let Err(error) = store.record_deliveries(std::slice::from_ref(attempt), disable_after).await {
            tracing::error!(%error, event = %attempt.0.event_id, "could not record a webhook attempt");
        }
    }
}

impl Dispatcher {
    /// Delivers until `stop` turns true, then waits for attempts in flight.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let (finished, to_record) = mpsc::channel(RECORD_QUEUE);
        let recorder = tokio::spawn(record(Arc::clone(&self.store), to_record, self.disable_after));
        // Shared by every attempt task without copying the settings.
        let destinations = Arc::new(Destinations::<Claimed>::new(self.max_in_flight_per_destination));
        let this = Arc::new(self);
        let wake = this.store.outbox_signal();
        let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        let mut in_flight = JoinSet::new();
        // Whether events of any destination may be due: after a commit, a poll interval, or
        // a claim that came back full. Refill claims need no such look.
        let mut look_everywhere = true;
        while !*stop.borrow() {
            let mut more_due = false;
            if look_everywhere {
                let busy = destinations.busy();
                more_due = Arc::clone(&this)
                    .claim_and_send(
                        ClaimScope::AllBut(&busy),
                        CLAIM_BATCH,
                        &permits,
                        &destinations,
                        &mut in_flight,
                        &finished,
                    )
                    .await;
            }
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
                if !filled {
                    destinations.drained(&prefix);
                }
            }
            while in_flight.try_join_next().is_some() {}
            look_everywhere = more_due;
            if more_due {
                continue;
            }
            tokio::select! {
                () = wake.notified() => look_everywhere = true,
                () = destinations.refill.notified() => {}
                () = tokio::time::sleep(POLL_INTERVAL) => look_everywhere = true,
                _ = stop.changed() => {}
            }
        }
        // Attempts in flight finish; queued events go back to the database, due at once.
        let queued: Vec<DestinationKey> = destinations.stop().iter().map(|(due, _)| key_of(due)).collect();
        while in_flight.join_next().await.is_some() {}
        this.hand_back(&queued, Duration::ZERO).await;
        drop(finished);
        let _ = recorder.await;
    }

    /// Gives claimed destinations back to the database unsent, due again after `wait`. If
    /// that fails their lease runs out instead, and they are claimed again then.
    async fn hand_back(&self, ids: &[DestinationKey], wait: Duration) {
        if ids.is_empty() {
            return;
        }
        let due = self.clock.now().plus(wait);
        // In chunks: one statement binds each id, and databases bound how many it may.
        for chunk in ids.chunks(HAND_BACK_CHUNK) {
            if let Err(error) = self.store.release_events(chunk, due).await {
                tracing::warn!(%error, events = chunk.len(), "could not hand back events of a busy destination");
            }
        }
    }

    /// Claims up to `limit` events within `scope` and offers each to its destination: it is
    /// started in a free slot, queued, or handed back. Returns whether more may be due right
    /// now: the batch was full, or every attempt slot of the process was busy.
    async fn claim_and_send(
        self: Arc<Self>,
        scope: ClaimScope<'_>,
        limit: u32,
        permits: &Arc<Semaphore>,
        destinations: &Arc<Destinations<Claimed>>,
        in_flight: &mut JoinSet<()>,
        finished: &mpsc::Sender<Finished>,
    ) -> bool {
        // A general claim takes only what the process can start now; a refill claim fills a
        // destination's queue, which needs no slot yet.
        let limit = match scope {
            ClaimScope::AllBut(_) => u32::try_from(permits.available_permits()).unwrap_or(0).min(limit),
            ClaimScope::Only(_) => limit,
        };
        if limit == 0 {
            // Wait for a slot, a while at most (the loop also answers wake-ups and `stop`),
            // then look again.
            let _ = tokio::time::timeout(POLL_INTERVAL, permits.clone().acquire_owned()).await;
            return true;
        }
        let now = self.clock.now();
        let lease_until = now.plus(lease(self.timeout));
        let claimed = match self.store.claim_due_events(now, lease_until, limit, scope).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::error!(%error, "could not claim due webhook events");
                tokio::time::sleep(POLL_INTERVAL).await;
                return false;
            }
        };
        let full = claimed.len() == limit as usize;
        let mut signings: HashMap<Signer, Signing> = HashMap::new();
        let mut handed_back: HashMap<Duration, Vec<DestinationKey>> = HashMap::new();
        let mut orphans: Vec<DestinationKey> = Vec::new();
        for due in claimed {
            let signer = (due.event.merchant_id.clone(), due.destination.endpoint_id.clone());
            let signing = match signings.get(&signer) {
                Some(signing) => signing.clone(),
                None => {
                    let signing = self.signing(&signer, now).await;
                    signings.insert(signer, signing.clone());
                    signing
                }
            };
            let signing = match signing {
                Signing::Ready(signing) => signing,
                // The endpoint was removed: nobody is left to send it for.
                Signing::Gone => {
                    orphans.push(key_of(&due));
                    continue;
                }
                // The database did not answer: the destination waits for its lease.
                Signing::Unknown => continue,
            };
            // Never wait for a slot of the process here: slow destinations holding every slot
            // would stall the worker. Without one, an event waits behind its destination's
            // attempts in flight, or goes back.
            let destination = Some(due.destination.origin.clone()).filter(|origin| !origin.is_empty());
            let permit = permits.clone().try_acquire_owned().ok();
            let placed = match (&destination, permit.is_some()) {
                (None, true) => Placed::Start((due, signing)),
                (None, false) => Placed::HandBack((due, signing), Duration::ZERO),
                (Some(origin), true) => destinations.offer(origin, (due, signing)),
                (Some(origin), false) => destinations.queue_behind(origin, (due, signing)),
            };
            let (claimed, permit) = match (placed, permit) {
                (Placed::Start(claimed), Some(permit)) => (claimed, permit),
                (Placed::HandBack((due, _), wait), _) => {
                    handed_back.entry(wait).or_default().push(key_of(&due));
                    continue;
                }
                _ => continue,
            };
            let (worker, finished, destinations) = (Arc::clone(&self), finished.clone(), Arc::clone(destinations));
            in_flight.spawn(async move {
                // One slot of the destination: the first event, then each queued one.
                let mut next = Some(claimed);
                while let Some((due, signing)) = next.take() {
                    let attempted = worker.deliver(due, signing).await;
                    let answered = attempted.0.status_code.is_some();
                    // Closed only at shutdown, after every attempt task has ended.
                    let _ = finished.send(attempted).await;
                    if let Some(prefix) = &destination {
                        let Next { event, hand_back, wait } = destinations.next(prefix, answered);
                        let ids: Vec<DestinationKey> = hand_back.iter().map(|(due, _)| key_of(due)).collect();
                        worker.hand_back(&ids, wait).await;
                        next = event;
                    }
                }
                drop(permit);
            });
        }
        for (wait, ids) in handed_back {
            self.hand_back(&ids, wait).await;
        }
        if let Err(error) = self.store.skip_destinations(&orphans).await {
            tracing::warn!(%error, "could not skip destinations of removed endpoints");
        }
        full
    }

    /// How a destination's webhooks are signed: by its endpoint, or by the merchant for a
    /// payment's own URL.
    async fn signing(&self, (merchant, endpoint): &Signer, now: gatepost_core::time::Timestamp) -> Signing {
        let signing = match endpoint {
            Some(endpoint) => self.store.endpoint_signing(endpoint, now).await,
            None => self.store.webhook_signing(merchant, now).await,
        };
        match signing {
            Ok(Some(signing)) => Signing::Ready(signing),
            Ok(None) => Signing::Gone,
            Err(error) => {
                tracing::error!(%error, "could not read a webhook secret");
                Signing::Unknown
            }
        }
    }

    #[tracing::instrument(skip_all, fields(
        event = %due.event.id,
        endpoint = due.destination.endpoint_id.as_ref().map(|id| id.as_str()),
        attempt = due.destination.attempts + 1,
    ))]
    async fn deliver(&self, due: DueDelivery, signing: WebhookSigning) -> Finished {
        let now = self.clock.now();
        let attempted = attempt(&self.client, &due, &signing, &self.schedule, now).await;
        let delivery = attempted.delivery;
        tracing::info!(
            status = delivery.status_code,
            error = delivery.error.map(|e| e.as_str()),
            duration_ms = delivery.duration_ms,
            next = ?attempted.next,
            "webhook attempt"
        );
        self.metrics.record_attempt(
            attempted.outcome,
            delivery.duration_ms,
            due.event.created_at,
            now,
            &attempted.next,
        );
        (delivery, attempted.next)
    }
}
