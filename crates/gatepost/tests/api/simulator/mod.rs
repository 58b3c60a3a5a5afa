//! The gateway and `gatepost acquirer-sim` as two processes on loopback, wired to each other
//! as docs/reference/connectors.md#simulator runs them: the shopper is driven over HTTP, the
//! acquirer answers later by signed callbacks (docs/reference/callbacks.md) and misbehaves
//! as its flags ask. Every scenario checks the final state, one event per status move, the
//! merchant's signed webhooks, and that no status ever moved backwards
//! (docs/reference/payments.md#transitions).
//!
//! # Layout
//! - `world`: both processes, a merchant on the simulator, and the checks scenarios share.
//! - `relay`: a recorder on each wire between the two processes, which can also hold requests
//!   back to make results meet.
//! - `watch`: samples a payment's status while a scenario runs.
//! - `async_flow`, `hostile`, `signatures`, `races`, `operations`, `merchant`: the scenarios.

pub mod relay;
pub mod watch;
pub mod world;

mod async_flow;
mod hostile;
mod merchant;
mod operations;
mod races;
mod signatures;

/// Test cards of docs/reference/connectors.md#test-cards.
pub mod cards {
    pub const APPROVED: &str = "4242424242424242";
    pub const DECLINED: &str = "4000000000000002";
    pub const CHALLENGE: &str = "4000000000003220";
    pub const ASYNC_APPROVED: &str = "4000000000000077";
    pub const ASYNC_DECLINED: &str = "4000000000000085";
}

/// One `#[tokio::test]` per scenario on one backend, in a module named after it:
/// `on_backend!(sqlite, Sqlite: a, b)` makes `sqlite::a` and `sqlite::b`.
macro_rules! on_backend {
    ($module:ident, $backend:ident: $($scenario:ident),* $(,)?) => {
        mod $module {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario(gatepost_testkit::Backend::$backend).await;
            })*
        }
    };
}
pub(crate) use on_backend;
