//! `shop`: the example shop's binary (docs/reference/merchant-kit.md#shop-configuration).
//! Configured by environment variables:
//!
//! ```text
//! GATEPOST_URL=http://127.0.0.1:8080 GATEPOST_API_KEY=sk_test_… GATEPOST_WEBHOOK_SECRET=whsec_… \
//!     cargo run -p shop
//! ```
//!
//! `SHOP_LISTEN` (default `127.0.0.1:3000`), `SHOP_PUBLIC_URL` (default `http://<listen>`)
//! and `SHOP_DATABASE` (default `shop.db`) are optional; `SHOP_LOG` filters the log
//! (default `info`). A configuration mistake stops it with one line and exit code 2.

use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match shop::Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("shop: {error}");
            return ExitCode::from(2);
        }
    };
    let filter = EnvFilter::try_from_env("SHOP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();

    let gatepost_url = config.gatepost_url.clone();
    let database = config.database.display().to_string();
    let shop = match shop::Shop::start(config).await {
        Ok(shop) => shop,
        Err(error) => {
            eprintln!("shop: {error}");
            return ExitCode::FAILURE;
        }
    };
    // On stdout, one line: people read it, and scripts (and the tests) take the address from it.
    println!(
        "shop listening on http://{} (public URL {}, gatepost at {gatepost_url}, database {database})",
        shop.addr, shop.public_url
    );
    match shop.serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("shop: {error}");
            ExitCode::FAILURE
        }
    }
}
