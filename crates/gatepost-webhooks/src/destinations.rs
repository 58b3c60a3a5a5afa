//! Fair delivery (docs/reference/webhooks.md#fairness): a destination — the scheme, host
//! and port a webhook goes to — has at most a few attempts in flight, so one that is slow
//! or down holds a bounded share of the worker and never delays anyone else's attempts.
//!
//! The worker offers each claimed event's destination here. A destination with a slot free starts it; one
//! without queues it (up to four times its cap), and an attempt that ends takes the next
//! queued event of its destination in its slot, with no trip to the database. Beyond the
//! queue, events are handed back. A destination that queues or hands back is marked as
//! having a backlog: the worker's general claims then leave it out (by the origin stored with
//! each destination of an event: `gatepost_core::urls::WebhookUrl::origin`), and once its queue has room for twice its cap the worker claims that
//! destination's own events to refill it, until a refill comes back short. A backlog is therefore drained at the destination's pace, in large claims, and
//! never takes another destination's turn. A destination whose attempts keep failing without
//! an answer (timeouts, refused connections) is probed with a few attempts at a time, its
//! queue handed back, until it answers again.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Attempts in flight to a destination that keeps failing without an answer.
const PROBING_IN_FLIGHT: usize = 4;
/// Failures without an answer in a row after which a destination is only probed.
const FAILURES_BEFORE_PROBING: u32 = 5;
/// Claimed events a destination may hold waiting for a slot, per slot.
pub const QUEUED_PER_SLOT: usize = 4;
/// How long events handed back wait before they may be claimed again: not at all for a
/// busy destination (its own claims take them as its queue empties), a while for one that
/// is only probed.
const BUSY_DEFER: Duration = Duration::ZERO;
const PROBING_DEFER: Duration = Duration::from_secs(30);

#[derive(Debug)]
struct Destination<T> {
    in_flight: usize,
    /// Claimed events waiting for a slot, oldest first.
    queue: VecDeque<T>,
    /// Attempts in a row that got no answer at all.
    unanswered: u32,
    /// Events of this destination had to wait or were handed back: more may be waiting in
    /// the database, for its own refill claims.
    backlog: bool,
}

impl<T> Default for Destination<T> {
    fn default() -> Self {
        Self { in_flight: 0, queue: VecDeque::new(), unanswered: 0, backlog: false }
    }
}

impl<T> Destination<T> {
    /// Nothing to remember: an idle destination's entry is removed. Failures without an
    /// answer are forgotten with it, so that the map does not grow with every dead endpoint
    /// ever seen; one that is still dead is probed again after five more.
    fn is_idle(&self) -> bool {
        self.in_flight == 0 && self.queue.is_empty() && !self.backlog
    }
}

/// Where an offered event went.
#[derive(Debug, PartialEq, Eq)]
pub enum Placed<T> {
    /// A slot was free and is now the caller's: start the attempt.
    Start(T),
    /// It waits in the destination's queue; an ending attempt will take it.
    Queued,
    /// No room: give it back to the database, due again after the wait.
    HandBack(T, Duration),
}

/// What an attempt that ended does next.
#[derive(Debug, PartialEq, Eq)]
pub struct Next<T> {
    /// The next event to send in the same slot; `None` gives the slot up.
    pub event: Option<T>,
    /// Queued events that no longer fit (the destination is now only probed), to give
    /// back to the database, due again after the wait.
    pub hand_back: Vec<T>,
    pub wait: Duration,
}

/// Attempts in flight and queued per destination, and which destinations are only probed.
#[derive(Debug)]
pub struct Destinations<T> {
    cap: usize,
    by_prefix: Mutex<HashMap<String, Destination<T>>>,
    /// Signalled when a destination with a backlog has room to refill.
    pub refill: tokio::sync::Notify,
    /// Set at shutdown: ending attempts take nothing more from the queues.
    stopping: AtomicBool,
}

impl<T> Destinations<T> {
    #[must_use]
    pub fn new(cap: usize) -> Self {
        Self {
            cap: cap.max(1),
            by_prefix: Mutex::default(),
            refill: tokio::sync::Notify::new(),
            stopping: AtomicBool::new(false),
        }
    }

    fn cap_of(&self, destination: &Destination<T>) -> usize {
        if self.is_probed(destination) { PROBING_IN_FLIGHT.min(self.cap) } else { self.cap }
    }

    /// How many claimed events may wait for a slot. A destination that is only probed
    /// queues none: its attempts take up to a timeout each, and queued events would outwait
    /// their lease.
    fn queue_cap(&self, destination: &Destination<T>) -> usize {
        if self.is_probed(destination) { 0 } else { self.cap * QUEUED_PER_SLOT }
    }

    fn is_probed(&self, destination: &Destination<T>) -> bool {
        destination.unanswered >= FAILURES_BEFORE_PROBING
    }

    /// How many more events the destination can take now: free slots and queue space.
    fn room(&self, destination: &Destination<T>) -> usize {
        self.cap_of(destination).saturating_sub(destination.in_flight)
            + self.queue_cap(destination).saturating_sub(destination.queue.len())
    }

    /// Room that makes a refill claim worth its query (a write): twice the cap, so that a
    /// claim brings many events while the queue still holds more than the slots need.
    fn refill_at(&self, destination: &Destination<T>) -> usize {
        self.cap_of(destination) * 2
    }

    fn wait_for(&self, destination: &Destination<T>) -> Duration {
        if self.is_probed(destination) { PROBING_DEFER } else { BUSY_DEFER }
    }

    /// Places a claimed event of `prefix`: started in a free slot, queued, or handed back.
    pub fn offer(&self, prefix: &str, event: T) -> Placed<T> {
        let mut all = self.by_prefix.lock().expect("destinations lock");
        let destination = all.entry(prefix.to_owned()).or_default();
        let cap = self.cap_of(destination);
        if destination.in_flight < cap {
            destination.in_flight += 1;
            Placed::Start(event)
        } else if destination.queue.len() < self.queue_cap(destination) && !self.stopping.load(Ordering::Relaxed) {
            // More of its events may be due: from now on its own refill claims take them.
            destination.queue.push_back(event);
            destination.backlog = true;
            Placed::Queued
        } else {
            destination.backlog = true;
            let wait = self.wait_for(destination);
            Placed::HandBack(event, wait)
        }
    }

    /// Places a claimed event of `prefix` when the process has no attempt slot to start it:
    /// queued behind the destination's attempts in flight (one of them will take it), or
    /// handed back.
    pub fn queue_behind(&self, prefix: &str, event: T) -> Placed<T> {
        let mut all = self.by_prefix.lock().expect("destinations lock");
        let destination = all.entry(prefix.to_owned()).or_default();
        destination.backlog = true;
        let fits = destination.queue.len() < self.queue_cap(destination);
        if destination.in_flight > 0 && fits && !self.stopping.load(Ordering::Relaxed) {
            destination.queue.push_back(event);
            Placed::Queued
        } else {
            let wait = self.wait_for(destination);
            Placed::HandBack(event, wait)
        }
    }

    /// An attempt to `prefix` ended; `answered` is whether the receiver answered at all
    /// (any status), which ends probing. Gives the next queued event to send in the same
    /// slot, or frees the slot.
    pub fn next(&self, prefix: &str, answered: bool) -> Next<T> {
        let mut all = self.by_prefix.lock().expect("destinations lock");
        let mut next = Next { event: None, hand_back: Vec::new(), wait: BUSY_DEFER };
        let Some(destination) = all.get_mut(prefix) else { return next };
        destination.unanswered = if answered { 0 } else { destination.unanswered.saturating_add(1) };
        let cap = self.cap_of(destination);
        while destination.queue.len() > self.queue_cap(destination) {
            next.hand_back.extend(destination.queue.pop_back());
            destination.backlog = true;
        }
        next.wait = self.wait_for(destination);
        if destination.in_flight <= cap && !self.stopping.load(Ordering::Relaxed) {
            next.event = destination.queue.pop_front();
        }
        if next.event.is_none() {
            destination.in_flight = destination.in_flight.saturating_sub(1);
        }
        if destination.backlog && self.room(destination) >= self.refill_at(destination) {
            self.refill.notify_one();
        }
        if destination.is_idle() {
            all.remove(prefix);
        }
        next
    }

    /// The destinations the worker's general claims leave out: those with no slot free,
    /// events queued, or a backlog — their own refill claims take their events.
    #[must_use]
    pub fn busy(&self) -> Vec<String> {
        let all = self.by_prefix.lock().expect("destinations lock");
        all.iter()
            .filter(|(_, d)| d.backlog || !d.queue.is_empty() || d.in_flight >= self.cap_of(d))
            .map(|(prefix, _)| prefix.clone())
            .collect()
    }

    /// The destinations with a backlog and room enough for a claim of their own, with how
    /// many events each may take.
    #[must_use]
    pub fn refills(&self) -> Vec<(String, usize)> {
        let all = self.by_prefix.lock().expect("destinations lock");
        all.iter()
            .filter(|(_, d)| d.backlog)
            .filter_map(|(prefix, d)| {
                let room = self.room(d);
                (room >= self.refill_at(d)).then(|| (prefix.clone(), room))
            })
            .collect()
    }

    /// A refill claim came back short: the destination's backlog is drained.
    pub fn drained(&self, prefix: &str) {
        let mut all = self.by_prefix.lock().expect("destinations lock");
        if let Some(destination) = all.get_mut(prefix) {
            destination.backlog = false;
            if destination.is_idle() {
                all.remove(prefix);
            }
        }
    }

    /// Shutdown: ending attempts take nothing more, and every queued event is returned,
    /// to be handed back.
    pub fn stop(&self) -> Vec<T> {
        self.stopping.store(true, Ordering::Relaxed);
        let mut all = self.by_prefix.lock().expect("destinations lock");
        all.values_mut().flat_map(|d| d.queue.drain(..)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_starts_up_to_its_cap_queues_four_times_that_and_hands_back_the_rest() {
        let destinations = Destinations::new(2);
        assert_eq!(destinations.offer("http://a/", 1), Placed::Start(1));
        assert_eq!(destinations.offer("http://a/", 2), Placed::Start(2));
        for n in 3..=10 {
            assert_eq!(destinations.offer("http://a/", n), Placed::Queued);
        }
        assert_eq!(destinations.offer("http://a/", 11), Placed::HandBack(11, BUSY_DEFER));
        assert_eq!(destinations.busy(), ["http://a/"]);
        assert_eq!(destinations.offer("http://b/", 1), Placed::Start(1), "another destination is not affected");
    }

    #[test]
    fn without_a_slot_of_the_process_an_event_waits_only_behind_an_attempt_in_flight() {
        let destinations = Destinations::new(4);
        assert_eq!(destinations.queue_behind("http://a/", 1), Placed::HandBack(1, BUSY_DEFER), "nobody would take it");
        assert_eq!(destinations.offer("http://a/", 2), Placed::Start(2));
        assert_eq!(destinations.queue_behind("http://a/", 3), Placed::Queued);
        assert_eq!(destinations.next("http://a/", true).event, Some(3));
    }

    #[test]
    fn an_ending_attempt_takes_the_next_queued_event_in_its_slot() {
        let destinations = Destinations::new(1);
        assert_eq!(destinations.offer("http://a/", 1), Placed::Start(1));
        assert_eq!(destinations.offer("http://a/", 2), Placed::Queued);
        assert_eq!(destinations.next("http://a/", true).event, Some(2));
        assert_eq!(destinations.next("http://a/", true).event, None, "the slot is given up");
        assert_eq!(destinations.busy(), ["http://a/"], "it queued once: its own claims take its events");
        destinations.drained("http://a/");
        assert!(destinations.busy().is_empty());
        assert_eq!(destinations.offer("http://a/", 3), Placed::Start(3));
    }

    #[test]
    fn a_destination_with_a_backlog_asks_for_a_refill_once_its_queue_has_room_for_twice_its_cap() {
        let destinations = Destinations::new(2);
        for n in 0..11 {
            let _ = destinations.offer("http://a/", n);
        }
        assert!(destinations.refills().is_empty(), "queue full");
        for _ in 0..3 {
            assert!(destinations.next("http://a/", true).event.is_some());
        }
        assert!(destinations.refills().is_empty(), "room for 3, not yet twice the cap");
        assert!(destinations.next("http://a/", true).event.is_some());
        assert_eq!(destinations.refills(), [("http://a/".to_owned(), 4)]);
        destinations.drained("http://a/");
        assert!(destinations.refills().is_empty());
    }

    #[test]
    fn a_destination_that_never_answers_is_only_probed_and_its_queue_handed_back() {
        let destinations = Destinations::new(64);
        for n in 0..100 {
            let _ = destinations.offer("http://tarpit/", n);
        }
        let mut handed_back = Vec::new();
        for _ in 0..FAILURES_BEFORE_PROBING {
            let next = destinations.next("http://tarpit/", false);
            handed_back.extend(next.hand_back);
        }
        // Four ending attempts took four queued events (36 left 32); at the fifth failure the
        // whole queue goes back: a probed destination queues nothing.
        assert_eq!(handed_back.len(), 32);
        assert_eq!(destinations.next("http://tarpit/", false).wait, PROBING_DEFER);
        assert!(matches!(destinations.offer("http://tarpit/", 999), Placed::HandBack(999, PROBING_DEFER)));
    }

    #[test]
    fn at_shutdown_queued_events_are_returned_and_ending_attempts_take_no_more() {
        let destinations = Destinations::new(1);
        let _ = destinations.offer("http://a/", 1);
        let _ = destinations.offer("http://a/", 2);
        assert_eq!(destinations.stop(), [2]);
        assert_eq!(destinations.next("http://a/", true).event, None);
    }
}
