//! Fair delivery (docs/reference/webhooks.md#fairness): a destination — the scheme, host
//! and port a webhook goes to — has at most a few attempts in flight, so one that is slow
//! or down holds a bounded share of the worker and never delays anyone else's attempts.
//!
//! The worker takes a slot here before it sends; events of a destination with no slot
//! free are not claimed from the database (their URLs are skipped by prefix) or, when
//! claimed in the same batch that filled it, handed back to be claimed later. A destination
//! whose attempts keep failing without an answer (timeouts, refused connections) is probed
//! with a few attempts at a time until it answers again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Attempts in flight to a destination that keeps failing without an answer.
const PROBING_IN_FLIGHT: usize = 4;
/// Failures without an answer in a row after which a destination is only probed.
const FAILURES_BEFORE_PROBING: u32 = 5;
/// How long events handed back wait before they may be claimed again: a moment for a
/// busy destination, longer for one that is only probed.
const BUSY_DEFER: Duration = Duration::from_secs(1);
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
}

/// In-flight attempts per destination, and which destinations are only probed.
#[derive(Debug)]
pub struct Destinations {
    cap: usize,
    by_prefix: Mutex<HashMap<String, Destination>>,
}

impl Destinations {
    #[must_use]
    pub fn new(cap: usize) -> Self {
        Self { cap: cap.max(1), by_prefix: Mutex::default() }
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
            if destination.in_flight == 0 && destination.unanswered == 0 {
                all.remove(prefix);
            }
        }
    }

    /// The destinations with no slot free: their events are not claimed now.
    #[must_use]
    pub fn full(&self) -> Vec<String> {
        let all = self.by_prefix.lock().expect("destinations lock");
        all.iter().filter(|(_, d)| d.in_flight >= self.cap_of(d)).map(|(prefix, _)| prefix.clone()).collect()
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
        assert_eq!(destinations.full(), ["http://a/"]);
        assert!(destinations.try_take("http://b/"));
        destinations.finish("http://a/", true);
        assert!(destinations.full().is_empty());
        assert!(destinations.try_take("http://a/"));
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
