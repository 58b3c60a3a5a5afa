//! The example shop: the recommended way to take payments with gatepost, end to end
//! (docs/reference/merchant-kit.md#the-example-shop). It sells one product, keeps its
//! orders in a SQLite file of its own, and talks to the gateway only through the merchant
//! kit, `gatepost-merchant`.
//!
//! # The two channels
//!
//! A payment reaches the shop by two roads, and the shop trusts only one of them:
//!
//! - The shopper's **browser** comes back to `GET /orders/{id}/return` after paying. A
//!   browser can close before it gets there, come back twice, or come back with edited
//!   parameters, so that page only *shows* the order, as the shop's own database (or, while
//!   the webhook is on its way, the gateway's API) knows it. It never marks anything paid.
//! - The gateway's **webhook** (`POST /webhooks/gatepost`), signed and retried until the
//!   shop acknowledges it, is what marks an order paid: verified, deduplicated by
//!   `webhook-id`, and confirmed with `GET /v1/payments/{id}` before anything is fulfilled.
//!
//! `docs/integration.md` walks through the same steps, with the reasons for each.
//!
//! # Layout
//!
//! - [`config`]: the environment variables, each checked at start.
//! - `orders`: the shop's SQLite database: orders, fulfilments, handled webhooks.
//! - `checkout`: the shopper's side: the product page, placing an order, the return page,
//!   and the order as JSON.
//! - `webhooks`: the gateway's side: verify, deduplicate, confirm, fulfil.
//! - `pages`: the HTML templates (askama: checked at compile time, every value escaped).
//! - `error`: how a failure answers.

pub mod config;

mod checkout;
mod error;
mod orders;
mod pages;
mod webhooks;

pub use config::{Config, ConfigError};
pub use orders::DatabaseError;

use axum::Router;
use axum::routing::{get, post};
use gatepost_merchant::{Client, ReturnVerifier, Webhook};
use orders::Database;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// What the shop sells: one product at a fixed price.
#[derive(Clone, Copy, Debug)]
pub struct Product {
    pub name: &'static str,
    /// In the currency's minor unit: 2450 is 24.50 EUR.
    pub amount: i64,
    pub currency: &'static str,
}

/// The only product.
pub const PRODUCT: Product = Product { name: "Coffee beans, 1 kg", amount: 2450, currency: "EUR" };

impl Product {
    /// The price as shoppers read it: `24.50 EUR`.
    #[must_use]
    pub fn price(&self) -> String {
        format_price(self.amount, self.currency)
    }
}

/// An amount in minor units as shoppers read it, such as `24.50 EUR`. The shop sells in
/// euros only, so two decimals are always right here; a shop with more currencies needs
/// each one's exponent (JPY has none, BHD three).
fn format_price(amount: i64, currency: &str) -> String {
    format!("{}.{:02} {currency}", amount / 100, amount % 100)
}

/// What every handler can reach.
#[derive(Clone)]
struct AppState {
    database: Database,
    /// The gateway's API, with the merchant's secret key.
    gatepost: Client,
    webhook: Webhook,
    returns: ReturnVerifier,
    /// The base of the return and webhook URLs the shop gives the gateway.
    public_url: Arc<str>,
}

/// Why the shop could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("SHOP_DATABASE: {0}")]
    Database(#[from] DatabaseError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

/// A shop with its database open and its address bound, ready to serve.
pub struct Shop {
    /// The address bound: with port 0 in `SHOP_LISTEN`, the port the system chose.
    pub addr: SocketAddr,
    /// Where shoppers and the gateway reach the shop.
    pub public_url: String,
    listener: TcpListener,
    router: Router,
}

impl Shop {
    /// Opens (and if need be creates) the database and binds `config.listen`.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        let database = Database::open(&config.database)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Listen { addr: config.listen, source })?;
        let addr = listener.local_addr().map_err(|source| StartError::Listen { addr: config.listen, source })?;
        let public_url = config.public_url.unwrap_or_else(|| format!("http://{addr}"));
        let state = AppState {
            database,
            gatepost: config.gatepost,
            webhook: config.webhook,
            returns: config.returns,
            public_url: public_url.as_str().into(),
        };
        Ok(Self { addr, public_url, listener, router: router(state) })
    }

    /// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
    pub async fn serve(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown_signal()).await
    }
}

/// The routes of docs/reference/merchant-kit.md#shop-routes.
fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(checkout::product_page))
        .route("/orders", post(checkout::place_order))
        .route("/orders/{id}", get(checkout::order_json))
        .route("/orders/{id}/return", get(checkout::return_page))
        .route("/webhooks/gatepost", post(webhooks::receive))
        .with_state(state)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_price_has_two_decimals() {
        assert_eq!(PRODUCT.price(), "24.50 EUR");
        assert_eq!(Product { amount: 905, ..PRODUCT }.price(), "9.05 EUR");
    }
}
