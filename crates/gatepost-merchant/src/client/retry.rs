//! When and how soon a failed call is tried again.

use reqwest::header::{HeaderMap, RETRY_AFTER};
use std::time::{Duration, SystemTime};

/// How failed calls are retried: network errors, `5xx` and `429` answers, and `409
/// idempotency_key_in_use` (the first try of the same request is still running).
///
/// The delay before retry `n` (from 0) is about `initial_backoff × 2ⁿ`, at most
/// `max_backoff`, with random jitter; a `Retry-After` header replaces it, also capped at
/// `max_backoff`.
///
/// # Example
///
/// ```
/// use gatepost_merchant::RetryPolicy;
/// use std::time::Duration;
///
/// let patient = RetryPolicy { max_retries: 5, ..RetryPolicy::default() };
/// assert_eq!(patient.initial_backoff, Duration::from_millis(250));
/// assert_eq!(RetryPolicy::none().max_retries, 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first try; 0 never retries.
    pub max_retries: u32,
    pub initial_backoff: Duration,
    /// The longest wait between two tries, `Retry-After` included.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// Three retries, 250 ms doubling, at most 5 s between tries.
    fn default() -> Self {
        Self { max_retries: 3, initial_backoff: Duration::from_millis(250), max_backoff: Duration::from_secs(5) }
    }
}

impl RetryPolicy {
    /// Never retries.
    ///
    /// # Example
    ///
    /// ```
    /// use gatepost_merchant::{Client, RetryPolicy};
    ///
    /// let client = Client::new("http://127.0.0.1:8080", "sk_test_…").unwrap().with_retry_policy(RetryPolicy::none());
    /// # drop(client);
    /// ```
    #[must_use]
    pub fn none() -> Self {
        Self { max_retries: 0, ..Self::default() }
    }

    /// The wait before retry number `retry` (from 0).
    pub(super) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_backoff);
        }
        let backoff = self.initial_backoff.saturating_mul(2_u32.saturating_pow(retry)).min(self.max_backoff);
        // Half fixed, half random: clients that failed together do not all come back together.
        let half = backoff / 2;
        half + half.mul_f64(rand::random::<f64>())
    }
}

/// `Retry-After` as seconds or as an HTTP date (RFC 9110 §10.2.3).
pub(super) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_cap() {
        let policy = RetryPolicy {
            max_retries: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
        };
        for (retry, full) in [(0, 100), (1, 200), (2, 400), (3, 800), (4, 1000), (9, 1000)] {
            let delay = policy.delay(retry, None);
            let full = Duration::from_millis(full);
            assert!(delay >= full / 2 && delay <= full, "retry {retry}: {delay:?} not within {full:?}");
        }
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_cap() {
        let policy = RetryPolicy { max_backoff: Duration::from_secs(5), ..RetryPolicy::default() };
        assert_eq!(policy.delay(0, Some(Duration::from_secs(2))), Duration::from_secs(2));
        assert_eq!(policy.delay(0, Some(Duration::from_secs(3600))), Duration::from_secs(5));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(7)));
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
        headers.insert(RETRY_AFTER, HeaderValue::from_static("Sun, 06 Nov 1994 08:49:47 GMT"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(10)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }
}
