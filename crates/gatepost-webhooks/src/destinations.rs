//! Fair delivery (docs/reference/webhooks.md#fairness): a destination — the scheme, host
//! and port a webhook goes to — has at most a few attempts in flight, so one that is slow
//! or down holds a bounded share of the worker and never delays anyone else's attempts.
//!
//! The worker takes a slot here before it sends. Events of a destination with no slot free
//! are left out of the worker's claims (their URLs are skipped by prefix); those claimed in
//! the same batch that filled it are handed back, and the destination is marked as having
//! a backlog. As its slots free up, the worker claims that destination's own events, as
//! many as it has slots — a backlog is drained at the destination's pace, and never takes
//! another destination's turn. A destination whose attempts keep failing without an answer
//! (timeouts, refused connections) is probed with a few attempts at a time until it answers
//! again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Attempts in flight to a destination that keeps failing without an answer.
const PROBING_IN_FLIGHT: usize = 4;
/// Failures without an answer in a row after which a destination is only probed.
const FAILURES_BEFORE_PROBING: u32 = 5;
/// How long events handed back wait before they may be claimed again: not at all for a
/// busy destination (its own claims take them as its slots free up), a while for one that
/// is only probed.
const BUSY_DEFER: Duration = Duration::ZERO;
const PROBING_DEFER: Duration = Duration::from_secs(30);

/// Where a webhook goes, as the prefix every URL to that destination starts with:
/// `https://hooks.example/` or `http://127.0.0.1:8000/`. `None` for a URL that does not
/// parse (its attempt fails on its own, without a slot).
#[must_use]
pub fn destination_of(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let origin = parsed.origin();
    origin.is_tuple().then(|| format!("{}/", origin.ascii_serialization()))
}

#[derive(Debug, Default)]
struct Destination {
    in_flight: usize,
    /// Attempts in a row that got no answer at all.
    unanswered: u32,
    /// Events of this destination were handed back for want of a slot: more are waiting.
    backlog: bool,
}

/// In-flight attempts per destination, and which destinations are only probed.
#[derive(Debug)]
pub struct Destinations {
    cap: usize,
    by_prefix: Mutex<HashMap<String, Destination>>,
    /// Signalled when a destination with a backlog has slots to refill.
    pub refill: tokio::sync::Notify,
}

impl Destinations {
    #[must_use]
    pub fn new(cap: usize) -> Self {
        Self { cap: cap.max(1), by_prefix: Mutex::default(), refill: tokio::sync::Notify::new() }
    }

    /// How many free slots make a refill claim worth its query: a quarter of the cap.
    fn refill_batch(&self, destination: &Destination) -> usize {
        (self.cap_of(destination) / 4).max(1)
    }

    fn cap_of(&self, destination: &Destination) -> usize {
        if destination.unanswered >= FAILURES_BEFORE_PROBING { PROBING_IN_FLIGHT.min(self.cap) } else { self.cap }
    }

    /// Takes a slot for an attempt to `prefix`, if one is free.
    pub fn try_take(&self, prefix: &str) -> bool {
        let mut all = self.by_prefix.lock().expect("destinations lock");
        let destination = all.entry(prefix.to_owned()).or_default();
        if destination.in_flight >= self.cap_of(destination) {
            return false;
        }
        destination.in_flight += 1;
        true
    }

    /// Gives a slot back after an attempt; `answered` is whether the receiver answered at
    /// all (any status), which ends probing.
    pub fn finish(&self, prefix: &str, answered: bool) {
        let mut all = self.by_prefix.lock().expect("destinations lock");
        if let Some(destination) = all.get_mut(prefix) {
            destination.in_flight = destination.in_flight.saturating_sub(1);
            destination.unanswered = if answered { 0 } else { destination.unanswered.saturating_add(1) };
            let free = self.cap_of(destination).saturating_sub(destination.in_flight);
            if destination.backlog && free >= self.refill_batch(destination) {
                self.refill.notify_one();
            }
            if destination.in_flight == 0 && destination.unanswered == 0 && !destination.backlog {
                all.remove(prefix);
            }
        }
    }

    /// Notes that events of `prefix` were handed back: it has a backlog to refill from.
    pub fn handed_back(&self, prefix: &str) {
        let mut all = self.by_prefix.lock().expect("destinations lock");
        all.entry(prefix.to_owned()).or_default().backlog = true;
    }

    /// The destinations with a backlog and enough free slots for a claim of their own, with
    /// how many events each may take.
    #[must_use]
    pub fn refills(&self) -> Vec<(String, usize)> {
        let all = self.by_prefix.lock().expect("destinations lock");
        all.iter()
            .filter(|(_, d)| d.backlog)
            .filter_map(|(prefix, d)| {
                let free = self.cap_of(d).saturating_sub(d.in_flight);
                (free >= self.refill_batch(d)).then(|| (prefix.clone(), free))
            })
            .collect()
    }

    /// A refill claim came back short: the destination's backlog is drained.
    pub fn drained(&self, prefix: &str) {
        let mut all = self.by_prefix.lock().expect("destinations lock");
        if let Some(destination) = all.get_mut(prefix) {
            destination.backlog = false;
            if destination.in_flight == 0 && destination.unanswered == 0 {
                all.remove(prefix);
            }
        }
    }

    /// The destinations the worker's general claims leave out: those with no slot free,
    /// and those with a backlog, whose events only their own refill claims take.
    #[must_use]
    pub fn busy(&self) -> Vec<String> {
        let all = self.by_prefix.lock().expect("destinations lock");
        all.iter()
            .filter(|(_, d)| d.backlog || d.in_flight >= self.cap_of(d))
            .map(|(prefix, _)| prefix.clone())
            .collect()
    }

    /// How long an event handed back for `prefix` waits before it is due again.
    #[must_use]
    pub fn defer_for(&self, prefix: &str) -> Duration {
        let all = self.by_prefix.lock().expect("destinations lock");
        match all.get(prefix) {
            Some(d) if d.unanswered >= FAILURES_BEFORE_PROBING => PROBING_DEFER,
            _ => BUSY_DEFER,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_is_scheme_host_and_port() {
        assert_eq!(destination_of("https://hooks.example/in?x=1").as_deref(), Some("https://hooks.example/"));
        assert_eq!(destination_of("http://127.0.0.1:8000/a/b").as_deref(), Some("http://127.0.0.1:8000/"));
        assert_eq!(destination_of("https://hooks.example:443/in").as_deref(), Some("https://hooks.example/"));
        assert_eq!(destination_of("http://[::1]:9/in").as_deref(), Some("http://[::1]:9/"));
        assert_eq!(destination_of("not a url"), None);
    }

    #[test]
    fn a_destination_takes_at_most_its_cap_and_others_are_not_affected() {
        let destinations = Destinations::new(2);
        assert!(destinations.try_take("http://a/"));
        assert!(destinations.try_take("http://a/"));
        assert!(!destinations.try_take("http://a/"));
        assert_eq!(destinations.busy(), ["http://a/"]);
        assert!(destinations.try_take("http://b/"));
        destinations.finish("http://a/", true);
        assert!(destinations.busy().is_empty());
        assert!(destinations.try_take("http://a/"));
    }

    #[test]
    fn a_destination_with_a_backlog_asks_for_a_refill_once_a_quarter_of_its_slots_is_free() {
        let destinations = Destinations::new(8);
        for _ in 0..8 {
            assert!(destinations.try_take("http://a/"));
        }
        destinations.handed_back("http://a/");
        destinations.finish("http://a/", true);
        assert_eq!(destinations.busy(), ["http://a/"], "its events are left to its own claims");
        assert!(destinations.refills().is_empty(), "one free slot is not worth a claim");
        destinations.finish("http://a/", true);
        assert_eq!(destinations.refills(), [("http://a/".to_owned(), 2)]);
        destinations.drained("http://a/");
        assert!(destinations.refills().is_empty());
    }

    #[test]
    fn a_destination_that_never_answers_is_only_probed_until_it_does() {
        let destinations = Destinations::new(64);
        for _ in 0..FAILURES_BEFORE_PROBING {
            assert!(destinations.try_take("http://tarpit/"));
            destinations.finish("http://tarpit/", false);
        }
        for _ in 0..PROBING_IN_FLIGHT {
            assert!(destinations.try_take("http://tarpit/"));
        }
        assert!(!destinations.try_take("http://tarpit/"), "probed with a few attempts at a time");
        assert_eq!(destinations.defer_for("http://tarpit/"), PROBING_DEFER);
        destinations.finish("http://tarpit/", true);
        assert!(destinations.try_take("http://tarpit/") && destinations.try_take("http://tarpit/"));
        assert_eq!(destinations.defer_for("http://tarpit/"), BUSY_DEFER);
    }
}
