//! Deduplication of webhooks by `webhook-id` (delivery is at least once:
//! docs/reference/webhooks.md#at-least-once).
//!
//! The gateway retries until it gets a 2xx, so the same event can arrive twice: after a
//! timeout on its side, a crash on yours, or a network cut between your 2xx and the
//! gateway. Every delivery of one event carries the same `webhook-id`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Remembers which webhooks were handled already, by `webhook-id` (equal to the event's `id`).
///
/// **In a real shop, do not use a separate store for this.** Record the id in your own
/// database, in the same transaction as the fulfilment it triggers (a table with the id as
/// primary key; insert it, and if it was already there, commit nothing else). Then a crash
/// between “fulfilled” and “remembered” cannot happen, and a retry after it neither ships
/// twice nor is lost. This trait and [`InMemorySeenWebhooks`] suit idempotent handlers,
/// single-process prototypes, and tests.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{InMemorySeenWebhooks, SeenWebhooks};
///
/// fn handle(seen: &impl SeenWebhooks, webhook_id: &str) -> &'static str {
///     if !seen.first_time(webhook_id) {
///         return "duplicate: acknowledge and do nothing";
///     }
///     if fulfil().is_err() {
///         // Let the gateway's retry do it again.
///         seen.forget(webhook_id);
///         return "error: answer 500";
///     }
///     "fulfilled"
/// }
/// # fn fulfil() -> Result<(), ()> { Ok(()) }
///
/// let seen = InMemorySeenWebhooks::new();
/// assert_eq!(handle(&seen, "evt_1"), "fulfilled");
/// assert_eq!(handle(&seen, "evt_1"), "duplicate: acknowledge and do nothing");
/// ```
pub trait SeenWebhooks {
    /// Records `webhook_id` and says whether this is the first time it was seen.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{InMemorySeenWebhooks, SeenWebhooks};
    ///
    /// let seen = InMemorySeenWebhooks::new();
    /// assert!(seen.first_time("evt_1"));
    /// assert!(!seen.first_time("evt_1"));
    /// ```
    fn first_time(&self, webhook_id: &str) -> bool;

    /// Forgets `webhook_id`, so that the next delivery of it counts as the first: call
    /// it when handling failed and the webhook is answered with an error.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{InMemorySeenWebhooks, SeenWebhooks};
    ///
    /// let seen = InMemorySeenWebhooks::new();
    /// assert!(seen.first_time("evt_1"));
    /// seen.forget("evt_1");
    /// assert!(seen.first_time("evt_1"));
    /// ```
    fn forget(&self, webhook_id: &str);
}

impl<T: SeenWebhooks + ?Sized> SeenWebhooks for &T {
    fn first_time(&self, webhook_id: &str) -> bool {
        (**self).first_time(webhook_id)
    }

    fn forget(&self, webhook_id: &str) {
        (**self).forget(webhook_id);
    }
}

impl<T: SeenWebhooks + ?Sized> SeenWebhooks for Arc<T> {
    fn first_time(&self, webhook_id: &str) -> bool {
        (**self).first_time(webhook_id)
    }

    fn forget(&self, webhook_id: &str) {
        (**self).forget(webhook_id);
    }
}

/// [`SeenWebhooks`] in this process's memory, bounded in time and size. Lost on restart,
/// and not shared between processes: see the trait's docs for what a shop should do.
///
/// An id is kept for 24 hours by default (the gateway's early retries all fall within
/// that; later ones come hours apart and should find your own records), and at most
/// 100 000 ids are kept, the oldest dropped first.
///
/// # Example
///
/// ```
/// use gatepost_merchant::{InMemorySeenWebhooks, SeenWebhooks};
/// use std::time::Duration;
///
/// let seen = InMemorySeenWebhooks::with_limits(Duration::from_secs(3600), 2);
/// assert!(seen.first_time("evt_1"));
/// assert!(seen.first_time("evt_2"));
/// assert!(seen.first_time("evt_3")); // evt_1 is dropped to make room
/// assert_eq!(seen.len(), 2);
/// assert!(seen.first_time("evt_1"));
/// ```
#[derive(Debug)]
pub struct InMemorySeenWebhooks {
    ttl: Duration,
    capacity: usize,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// When each id was first seen.
    first_seen: HashMap<String, Instant>,
    /// The same ids, oldest first, to expire and evict without scanning the map. An id
    /// forgotten and seen again appears twice; the stale entry is skipped by its time.
    order: VecDeque<(Instant, String)>,
}

impl Default for InMemorySeenWebhooks {
    /// The same as [`InMemorySeenWebhooks::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl InMemorySeenWebhooks {
    /// How long an id is kept by default.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(gatepost_merchant::InMemorySeenWebhooks::DEFAULT_TTL.as_secs(), 24 * 3600);
    /// ```
    pub const DEFAULT_TTL: std::time::Duration = Duration::from_secs(24 * 3600);

    /// How many ids are kept at most by default.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(gatepost_merchant::InMemorySeenWebhooks::DEFAULT_CAPACITY, 100_000);
    /// ```
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// Keeps ids for [`DEFAULT_TTL`](Self::DEFAULT_TTL), at most
    /// [`DEFAULT_CAPACITY`](Self::DEFAULT_CAPACITY) of them.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{InMemorySeenWebhooks, SeenWebhooks};
    ///
    /// let seen = InMemorySeenWebhooks::new();
    /// assert!(seen.first_time("evt_1"));
    /// assert!(!seen.first_time("evt_1"));
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::with_limits(Self::DEFAULT_TTL, Self::DEFAULT_CAPACITY)
    }

    /// Keeps ids for `ttl`, at most `capacity` of them (at least one).
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::InMemorySeenWebhooks;
    /// use std::time::Duration;
    ///
    /// let seen = InMemorySeenWebhooks::with_limits(Duration::from_secs(3600), 1_000);
    /// assert!(seen.is_empty());
    /// ```
    #[must_use]
    pub fn with_limits(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity: capacity.max(1), seen: Mutex::default() }
    }

    /// As [`SeenWebhooks::first_time`], at time `now` rather than `Instant::now()`.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::InMemorySeenWebhooks;
    /// use std::time::{Duration, Instant};
    ///
    /// let seen = InMemorySeenWebhooks::new();
    /// let start = Instant::now();
    /// assert!(seen.first_time_at("evt_1", start));
    /// assert!(!seen.first_time_at("evt_1", start + Duration::from_secs(3600)));
    /// assert!(seen.first_time_at("evt_1", start + Duration::from_secs(25 * 3600)));
    /// ```
    pub fn first_time_at(&self, webhook_id: &str, now: Instant) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.drop_expired(now, self.ttl);
        if seen.first_seen.contains_key(webhook_id) {
            return false;
        }
        while seen.first_seen.len() >= self.capacity {
            seen.drop_oldest();
        }
        seen.first_seen.insert(webhook_id.to_owned(), now);
        seen.order.push_back((now, webhook_id.to_owned()));
        // Forgotten ids leave stale entries behind; sweep them before they pile up.
        if seen.order.len() > 2 * self.capacity {
            seen.compact();
        }
        true
    }

    /// How many ids are remembered (expired ones may still count until the next call).
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{InMemorySeenWebhooks, SeenWebhooks};
    ///
    /// let seen = InMemorySeenWebhooks::new();
    /// seen.first_time("evt_1");
    /// seen.first_time("evt_1");
    /// assert_eq!(seen.len(), 1);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).first_seen.len()
    }

    /// Whether no id is remembered.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::InMemorySeenWebhooks;
    ///
    /// assert!(InMemorySeenWebhooks::new().is_empty());
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SeenWebhooks for InMemorySeenWebhooks {
    fn first_time(&self, webhook_id: &str) -> bool {
        self.first_time_at(webhook_id, Instant::now())
    }

    fn forget(&self, webhook_id: &str) {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).first_seen.remove(webhook_id);
    }
}

impl Seen {
    /// Whether this entry of `order` is the live record of its id (not a forgotten one).
    fn is_current(&self, at: Instant, id: &str) -> bool {
        self.first_seen.get(id) == Some(&at)
    }

    fn drop_expired(&mut self, now: Instant, ttl: Duration) {
        while let Some((at, _)) = self.order.front() {
            if now.saturating_duration_since(*at) < ttl {
                break;
            }
            self.drop_oldest();
        }
    }

    fn compact(&mut self) {
        let order = std::mem::take(&mut self.order);
        self.order = order.into_iter().filter(|(at, id)| self.is_current(*at, id)).collect();
    }

    fn drop_oldest(&mut self) {
        if let Some((at, id)) = self.order.pop_front()
            && self.is_current(at, &id)
        {
            self.first_seen.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_forgotten_and_seen_again_is_kept_for_its_new_time_not_the_old_one() {
        let seen = InMemorySeenWebhooks::with_limits(Duration::from_secs(10), 10);
        let start = Instant::now();
        assert!(seen.first_time_at("evt_1", start));
        seen.forget("evt_1");
        assert!(seen.first_time_at("evt_1", start + Duration::from_secs(8)));
        // The first record's expiry must not remove the second one.
        assert!(!seen.first_time_at("evt_1", start + Duration::from_secs(12)));
        assert!(seen.first_time_at("evt_1", start + Duration::from_secs(18)));
    }

    #[test]
    fn forgotten_ids_do_not_make_the_order_queue_grow_without_bound() {
        let seen = InMemorySeenWebhooks::with_limits(Duration::from_secs(3600), 3);
        let start = Instant::now();
        for i in 0..100 {
            assert!(seen.first_time_at("evt_1", start + Duration::from_millis(i)));
            seen.forget("evt_1");
        }
        assert!(seen.seen.lock().unwrap().order.len() <= 6);
        assert!(seen.is_empty());
    }
}
