//! Request rate limits (docs/reference/limits.md#rate-limits): a token bucket per API key on
//! `/v1`, and one per client address on the hosted page's `POST`s. Sandbox mode leaves them
//! off by default, so that tests and load tests from one key and one address run freely.
//!
//! The buckets are `governor`'s GCRA, which is a token bucket kept as one timestamp per key.

use crate::api::auth::KeyHash;
use crate::connections::Peer;
use crate::error::ApiError;
use crate::{AppState, hpp};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{Quota, RateLimiter};
use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

/// A sustained rate of requests per second; the bucket holds twice that (the burst).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    per_second: NonZeroU32,
}

impl Rate {
    /// `N/s`, such as `100/s`; `0` means no limit and is `Ok(None)`.
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        let text = text.trim();
        if text == "0" {
            return Ok(None);
        }
        let (count, unit) = text.split_once('/').ok_or("must be a rate such as 100/s, or 0 for none")?;
        let count: u32 = count.trim().parse().map_err(|_| "must be a rate such as 100/s, or 0 for none")?;
        let count = NonZeroU32::new(count).ok_or("must be a rate such as 100/s, or 0 for none")?;
        match unit.trim() {
            "s" => Ok(Some(Self { per_second: count })),
            _ => Err("must be a rate per second such as 100/s, or 0 for none".to_owned()),
        }
    }

    #[must_use]
    pub fn per_second(self) -> u32 {
        self.per_second.get()
    }

    /// How many requests the bucket holds: twice the rate (docs/reference/limits.md).
    fn burst(self) -> NonZeroU32 {
        self.per_second.saturating_mul(NonZeroU32::new(2).expect("2 is not zero"))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.per_second)
    }
}

type Buckets<K> =
    RateLimiter<K, governor::state::keyed::DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// The buckets of one limit, by key.
struct Limit<K: Hash + Eq + Clone> {
    rate: Rate,
    buckets: Buckets<K>,
}

impl<K: Hash + Eq + Clone> fmt::Debug for Limit<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limit").field("rate", &self.rate).finish_non_exhaustive()
    }
}

/// What a bucket said about one request.
struct Verdict {
    allowed: bool,
    remaining: u32,
    /// Seconds until another request is allowed (when refused) or the bucket is full.
    reset_seconds: u64,
    retry_after_seconds: u64,
}

impl<K: Hash + Eq + Clone> Limit<K> {
    fn new(rate: Rate) -> Self {
        let quota = Quota::per_second(rate.per_second).allow_burst(rate.burst());
        Self { rate, buckets: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>() }
    }

    fn check(&self, key: &K) -> Verdict {
        let per_token = 1.0 / f64::from(self.rate.per_second.get());
        match self.buckets.check_key(key) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                let missing = self.rate.burst().get().saturating_sub(remaining);
                let reset = (f64::from(missing) * per_token).ceil();
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a few seconds at most
                Verdict { allowed: true, remaining, reset_seconds: reset as u64, retry_after_seconds: 0 }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let seconds = whole_seconds(wait);
                Verdict { allowed: false, remaining: 0, reset_seconds: seconds, retry_after_seconds: seconds }
            }
        }
    }
}

/// A wait rounded up to whole seconds, at least one: `Retry-After: 0` would invite a
/// client to try again at once.
fn whole_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

/// Every limit of this gateway; a limit that is not set is `None`.
#[derive(Debug, Default)]
pub(crate) struct RateLimits {
    /// Per API key (its hash), on `/v1`.
    api: Option<Limit<String>>,
    /// Per client address, on the hosted page's `POST`s.
    pay: Option<Limit<IpAddr>>,
}

impl RateLimits {
    pub(crate) fn new(api: Option<Rate>, pay: Option<Rate>) -> Self {
        Self { api: api.map(Limit::new), pay: pay.map(Limit::new) }
    }

    /// Forgets buckets that have filled up again, so that the memory they take follows the
    /// clients that are active, not every client ever seen.
    pub(crate) fn forget_full_buckets(&self) {
        if let Some(limit) = &self.api {
            limit.buckets.retain_recent();
            limit.buckets.shrink_to_fit();
        }
        if let Some(limit) = &self.pay {
            limit.buckets.retain_recent();
            limit.buckets.shrink_to_fit();
        }
    }
}

/// Middleware on `/v1`, after authentication: one token of the API key's bucket per
/// request; `429 rate_limited` when it is empty. While the limit is set, every answer says
/// where the bucket stands (`RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`).
pub(crate) async fn limit_api(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limit) = &state.inner.rate_limits.api else {
        return next.run(request).await;
    };
    let key = request.extensions().get::<KeyHash>().map(|key| key.0.clone()).unwrap_or_default();
    let verdict = limit.check(&key);
    let mut response = if verdict.allowed {
        next.run(request).await
    } else {
        ApiError::rate_limited(verdict.retry_after_seconds).into_response()
    };
    add_headers(response.headers_mut(), limit.rate, &verdict);
    response
}

/// Middleware on the hosted page: one token of the client address's bucket per `POST`;
/// the page answers `429` with an HTML page when it is empty.
pub(crate) async fn limit_pay(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(limit) = &state.inner.rate_limits.pay else {
        return next.run(request).await;
    };
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    let Some(axum::extract::ConnectInfo(peer)) = request.extensions().get::<Peer>().cloned() else {
        return next.run(request).await;
    };
    let verdict = limit.check(&peer.ip());
    if verdict.allowed {
        return next.run(request).await;
    }
    let nonce = request.extensions().get::<hpp::CspNonce>().map(|n| n.0.clone()).unwrap_or_default();
    let mut response = hpp::message(
        &state,
        &nonce,
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        "Too many payment attempts came from your connection. Wait a moment, then try again.",
    );
    add_headers(response.headers_mut(), limit.rate, &verdict);
    response
}

fn add_headers(headers: &mut HeaderMap, rate: Rate, verdict: &Verdict) {
    let number = |n: u64| HeaderValue::from_str(&n.to_string()).expect("digits are a header value");
    headers.insert(HeaderName::from_static("ratelimit-limit"), number(u64::from(rate.burst().get())));
    headers.insert(HeaderName::from_static("ratelimit-remaining"), number(u64::from(verdict.remaining)));
    headers.insert(HeaderName::from_static("ratelimit-reset"), number(verdict.reset_seconds));
    if !verdict.allowed {
        headers.insert(header::RETRY_AFTER, number(verdict.retry_after_seconds));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_per_second_and_zero_is_none() {
        assert_eq!(Rate::parse("0"), Ok(None));
        assert_eq!(Rate::parse("100/s").unwrap().unwrap().per_second(), 100);
        assert_eq!(Rate::parse(" 10 / s ").unwrap().unwrap().per_second(), 10);
        for bad in ["", "100", "/s", "0/s", "-1/s", "1.5/s", "10/h", "ten/s"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bucket_holds_twice_the_rate_then_refuses_with_a_wait() {
        let limit = Limit::new(Rate::parse("5/s").unwrap().unwrap());
        let key = "sk_hash".to_owned();
        for expected_remaining in (0..10).rev() {
            let verdict = limit.check(&key);
            assert!(verdict.allowed);
            assert_eq!(verdict.remaining, expected_remaining);
        }
        let refused = limit.check(&key);
        assert!(!refused.allowed);
        assert_eq!((refused.remaining, refused.retry_after_seconds), (0, 1));
        assert!(limit.check(&"another key".to_owned()).allowed, "each key has its own bucket");
    }
}
