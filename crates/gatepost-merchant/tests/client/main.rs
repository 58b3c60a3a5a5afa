//! The API client over real HTTP: against a real gateway started in-process (on a fresh
//! SQLite file under `target/`), and against small scripted servers for retries.
#![cfg(feature = "client")]
// The modules share test servers with `pub`; the crate is never a dependency of anything.
#![allow(unreachable_pub)]

mod support;

mod gateway;
mod retries;
