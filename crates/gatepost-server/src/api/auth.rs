//! Merchant authentication by secret API key (docs/reference/api.md#authentication).

use crate::{ApiError, AppState};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::Response;
use gatepost_core::payment::{ApiKey, Merchant};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// How long a key found in the database is trusted without asking again. Short, so that
/// a merchant's settings changed on another node are seen within a second.
const CACHE_TTL: Duration = Duration::from_secs(1);
/// Keeps a flood of distinct keys from growing the cache without bound.
const CACHE_MAX_ENTRIES: usize = 10_000;

/// Known API key hashes and their merchants. Only hits are cached, so a key created by
/// the CLI works at once.
#[derive(Debug, Default)]
pub(crate) struct MerchantCache {
    entries: RwLock<HashMap<String, (Merchant, Instant)>>,
}

impl MerchantCache {
    fn get(&self, hash: &str) -> Option<Merchant> {
        let entries = self.entries.read().expect("merchant cache lock");
        let (merchant, at) = entries.get(hash)?;
        (at.elapsed() < CACHE_TTL).then(|| merchant.clone())
    }

    /// Drops a merchant whose settings changed, so this node sees them at once.
    pub(crate) fn forget(&self, merchant: &gatepost_core::ids::MerchantId) {
        self.entries.write().expect("merchant cache lock").retain(|_, (cached, _)| &cached.id != merchant);
    }

    fn put(&self, hash: String, merchant: Merchant) {
        let mut entries = self.entries.write().expect("merchant cache lock");
        if entries.len() >= CACHE_MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(hash, (merchant, Instant::now()));
    }
}

/// The SHA-256 of the API key a request was authenticated with: what the API's rate limit
/// counts by.
#[derive(Clone, Debug)]
pub(crate) struct KeyHash(pub(crate) String);

/// The credentials of `Authorization: Bearer <token>`. The scheme is case-insensitive
/// (RFC 9110 §11.1), so `bearer` and `BEARER` work as well.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Puts the authenticated [`Merchant`] into the request's extensions, or answers 401.
///
/// The key is looked up by its SHA-256 hash. Comparing hashes of equal length is what a
/// constant-time comparison of the keys would achieve: timing reveals nothing about
/// how much of a presented key was right.
pub(crate) async fn require_merchant(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let presented =
        bearer_token(request.headers()).filter(|key| key.starts_with("sk_")).ok_or_else(ApiError::unauthorized)?;
    let hash = ApiKey::from_presented(presented).hash();
    let cache = &state.inner.merchants;
    let merchant = match cache.get(&hash) {
        Some(merchant) => merchant,
        None => {
            let merchant = state.store().merchant_by_api_key_hash(&hash).await?.ok_or_else(ApiError::unauthorized)?;
            cache.put(hash.clone(), merchant.clone());
            merchant
        }
    };
    request.extensions_mut().insert(merchant);
    request.extensions_mut().insert(KeyHash(hash));
    Ok(next.run(request).await)
}
