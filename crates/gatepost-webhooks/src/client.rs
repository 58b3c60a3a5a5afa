//! The HTTP client webhooks go out on: rustls, keep-alive, a per-attempt timeout, no
//! redirects, and the address guard on every connection when private targets are off.

use crate::guard::{is_public, public_only};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Why a connection was refused before it was made.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves only to addresses webhooks may not reach")]
pub struct BlockedAddress {
    host: String,
}

/// Resolves names like the system does, then keeps only public addresses: the check
/// happens on what the connection will really use (docs/reference/urls.md#private-addresses).
#[derive(Debug)]
struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allowed = public_only(resolved);
            if allowed.is_empty() {
                return Err(Box::new(BlockedAddress { host }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// Settings of the webhook client.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    pub timeout: Duration,
    pub allow_private_targets: bool,
}

/// The webhook client and whether it guards addresses.
#[derive(Clone, Debug)]
pub struct WebhookClient {
    pub(crate) http: reqwest::Client,
    /// When set, literal IP hosts are checked too (names are checked by the resolver).
    pub(crate) guard: bool,
}

/// Builds the client. reqwest takes TLS from the process's rustls crypto provider, which
/// the binary installs (`gatepost::install_crypto_provider`) before building any client.
#[must_use]
pub fn build(settings: &ClientSettings) -> WebhookClient {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("gatepost/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(256)
        .tcp_nodelay(true)
        .no_proxy();
    if !settings.allow_private_targets {
        builder = builder.dns_resolver(Arc::new(GuardedResolver));
    }
    let http = builder.build().expect("the webhook client settings are valid");
    WebhookClient { http, guard: !settings.allow_private_targets }
}

/// A URL whose host is an IP literal is never resolved, so it is checked here.
#[must_use]
pub(crate) fn literal_address_allowed(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => is_public(IpAddr::V6(ip)),
        _ => true,
    }
}

/// Whether an error came from the address guard.
#[must_use]
pub(crate) fn is_blocked(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if error.is::<BlockedAddress>() {
            return true;
        }
        source = error.source();
    }
    false
}
