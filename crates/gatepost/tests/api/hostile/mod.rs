//! Attacks and careless merchants: slow, oversized, malformed, forged and greedy clients, replayed
//! against a real server on both backends so that none comes back.

mod callbacks;
mod connections;
mod delivery;
mod fairness;
mod hosted_page;
mod idempotency;
mod input;
mod metrics;
mod sweeps;
