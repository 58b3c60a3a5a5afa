//! End-to-end tests of the gateway over real HTTP, on SQLite and on PostgreSQL.
//!
//! Each test gets its own server on port 0 and its own database (a fresh SQLite file,
//! or a fresh PostgreSQL schema), so tests run in parallel.

// Test modules share helpers with `pub`; the crate is never a dependency of anything.
#![allow(unreachable_pub)]

mod checkout;

mod auth;
mod browser;
mod card_data;
mod cli;
mod dashboard;
mod durability;
mod endpoints;
mod hosted_page;
mod hostile;
mod idempotency;
mod openapi;
mod operations;
mod ops;
mod payments;
mod return_redirect;
mod settlement;
mod simulator;
mod three_ds;
mod upgrade;
mod validation;
mod webhooks;
