//! Timestamps in milliseconds and the clock that produces them.
//!
//! The clock is injected everywhere a decision depends on "now" (expiry, retries,
//! idempotency retention), so tests can move time instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    #[must_use]
    pub fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    #[must_use]
    pub fn millis(self) -> i64 {
        self.0
    }

    #[must_use]
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    #[must_use]
    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds.saturating_mul(1000)))
    }

    #[must_use]
    pub fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    /// This time plus `duration`, saturating: a delay too long to represent is "never".
    #[must_use]
    pub fn plus(self, duration: Duration) -> Self {
        self.plus_millis(i64::try_from(duration.as_millis()).unwrap_or(i64::MAX))
    }

    /// How long after `earlier` this is; zero when it is not after it.
    #[must_use]
    pub fn since(self, earlier: Self) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }

    /// The same instant as a `SystemTime`, for APIs that take one (HTTP dates).
    #[must_use]
    pub fn to_system_time(self) -> SystemTime {
        match u64::try_from(self.0) {
            Ok(millis) => UNIX_EPOCH + Duration::from_millis(millis),
            Err(_) => UNIX_EPOCH - Duration::from_millis(self.0.unsigned_abs()),
        }
    }

    /// `(year, month)` in UTC: what a card's expiry is compared with.
    #[must_use]
    pub fn year_month(self) -> (u16, u8) {
        use chrono::Datelike as _;
        let date = chrono::DateTime::from_timestamp_millis(self.0).unwrap_or_default();
        (u16::try_from(date.year()).unwrap_or(0), u8::try_from(date.month()).unwrap_or(1))
    }

    /// Reads an RFC 3339 time with its offset (`2026-11-30T08:00:00Z`,
    /// `2026-11-30T09:00:00.5+01:00`); `None` for anything else.
    #[must_use]
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        chrono::DateTime::parse_from_rfc3339(text).ok().map(|time| Self(time.timestamp_millis()))
    }

    /// RFC 3339 in UTC with milliseconds: `2026-11-21T10:00:00.123Z` (docs/reference/api.md#times).
    #[must_use]
    pub fn to_rfc3339(self) -> String {
        chrono::DateTime::from_timestamp_millis(self.0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

/// Where "now" comes from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(chrono::Utc::now().timestamp_millis())
    }
}

/// A clock that only moves when told to; shared by clones.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    #[must_use]
    pub fn starting_at(at: Timestamp) -> Self {
        Self(Arc::new(AtomicI64::new(at.0)))
    }

    pub fn advance_seconds(&self, seconds: i64) {
        self.0.fetch_add(seconds * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_add_and_subtract_saturating() {
        let t = Timestamp::from_millis(1_000);
        assert_eq!(t.plus(Duration::from_millis(1_500)), Timestamp::from_millis(2_500));
        assert_eq!(t.plus(Duration::MAX), Timestamp::from_millis(i64::MAX), "too far is never");
        assert_eq!(Timestamp::from_millis(2_500).since(t), Duration::from_millis(1_500));
        assert_eq!(t.since(Timestamp::from_millis(2_500)), Duration::ZERO);
        assert_eq!(t.to_system_time(), UNIX_EPOCH + Duration::from_secs(1));
    }

    #[test]
    fn timestamps_format_as_utc_with_milliseconds() {
        assert_eq!(Timestamp::from_millis(1_763_719_200_123).to_rfc3339(), "2025-11-21T10:00:00.123Z");
        assert_eq!(Timestamp::from_millis(0).to_rfc3339(), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn year_and_month_are_taken_in_utc() {
        assert_eq!(Timestamp::from_millis(1_763_719_200_123).year_month(), (2025, 11));
    }

    #[test]
    fn manual_clock_moves_only_when_advanced() {
        let clock = ManualClock::starting_at(Timestamp::from_millis(1000));
        assert_eq!(clock.now().millis(), 1000);
        clock.advance_seconds(60);
        assert_eq!(clock.now().millis(), 61_000);
    }
}
