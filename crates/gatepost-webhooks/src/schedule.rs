//! When a failed delivery is tried again (docs/reference/webhooks.md#retries).

use rand::RngExt as _;
use std::time::Duration;

/// The longest `Retry-After` gatepost honours.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Delays between attempts: the first retry waits `delays[0]`, and so on; after the
/// last one the event is `FAILED`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

impl RetrySchedule {
    #[must_use]
    pub fn new(delays: Vec<Duration>) -> Self {
        Self { delays }
    }

    /// How long to wait after `attempts_made` failed attempts, with ±10 % jitter so that
    /// a receiver coming back is not hit by every retry at once; `None` once the
    /// schedule is used up.
    #[must_use]
    pub fn next_delay(&self, attempts_made: u32) -> Option<Duration> {
        let index = usize::try_from(attempts_made.checked_sub(1)?).ok()?;
        let delay = *self.delays.get(index)?;
        let factor = rand::rng().random_range(0.9..=1.1);
        Some(delay.mul_f64(factor))
    }

    /// Attempts in all: the first, plus one per delay.
    #[must_use]
    pub fn max_attempts(&self) -> u32 {
        u32::try_from(self.delays.len()).unwrap_or(u32::MAX).saturating_add(1)
    }
}

/// A `Retry-After` header as a delay: seconds or an HTTP date, at most 24 hours.
#[must_use]
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    let delay = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value).ok()?.duration_since(now).unwrap_or_default(),
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn schedule(seconds: &[u64]) -> RetrySchedule {
        RetrySchedule::new(seconds.iter().map(|s| Duration::from_secs(*s)).collect())
    }

    #[test]
    fn delays_follow_the_schedule_within_ten_percent() {
        let schedule = schedule(&[60, 300]);
        for _ in 0..200 {
            let first = schedule.next_delay(1).unwrap();
            assert!((54.0..=66.0).contains(&first.as_secs_f64()), "{first:?}");
            let second = schedule.next_delay(2).unwrap();
            assert!((270.0..=330.0).contains(&second.as_secs_f64()), "{second:?}");
        }
        assert_eq!(schedule.next_delay(3), None, "used up");
        assert_eq!(schedule.next_delay(0), None);
        assert_eq!(schedule.max_attempts(), 3);
    }

    #[test]
    fn jitter_spreads_retries() {
        let schedule = schedule(&[1000]);
        let delays: std::collections::BTreeSet<u128> =
            (0..50).map(|_| schedule.next_delay(1).unwrap().as_millis()).collect();
        assert!(delays.len() > 10, "{delays:?}");
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_is_capped_at_a_day() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("999999", now), Some(MAX_RETRY_AFTER));
        let in_an_hour = httpdate::fmt_http_date(now + Duration::from_secs(3600));
        assert_eq!(parse_retry_after(&in_an_hour, now), Some(Duration::from_secs(3600)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
