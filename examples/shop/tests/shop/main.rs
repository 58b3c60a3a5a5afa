//! The example shop end to end, as a shopper and as the gateway see it: a gateway started
//! in this process on port 0 (a fresh SQLite file under `target/`), the shop as a real
//! process on a port of its own (a fresh SQLite file too), and, in `browser`, headless
//! Chromium clicking through the pages. `.config/nextest.toml` runs the browser tests one
//! at a time, with the gateway's own.

// Test modules share their servers and clients with `pub`; the crate is never a dependency of anything.
#![allow(unreachable_pub)]

mod support;

mod browser;
mod returns;
mod startup;
mod webhooks;
