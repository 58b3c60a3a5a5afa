//! What the workspace's tests share: a gateway on port 0 on either backend with a
//! merchant on it ([`TestApp`]), a shopper who pays on the hosted page ([`Shopper`]), a
//! merchant's webhook endpoint that records what it gets ([`receiver::Receiver`]), and one
//! macro per way of running a scenario on both backends.
//!
//! The gateway's, the merchant kit's and the example shop's tests all use it, so a change
//! to how a gateway starts, or how a shopper pays, is made once.

mod app;
mod database;
pub mod receiver;
mod shopper;

pub use app::{TestApp, TestMerchant, http, problem, test_clock};
pub use database::{Backend, TestDatabase, postgres_url};
pub use shopper::{Shopper, input_value, location};

/// Generates one `#[tokio::test]` per backend for each named scenario, e.g.
/// `on_both_backends!(cancel_twice_is_invalid_state)` makes
/// `sqlite::cancel_twice_is_invalid_state` and `postgres::cancel_twice_is_invalid_state`.
#[macro_export]
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario($crate::TestApp::spawn($crate::Backend::Sqlite).await).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario($crate::TestApp::spawn($crate::Backend::Postgres).await).await;
            })*
        }
    };
}

/// As [`on_both_backends!`], for scenarios that move a [`ManualClock`]: each gets the
/// app and the clock it runs on.
#[macro_export]
macro_rules! on_both_backends_with_clock {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let clock = $crate::test_clock();
                let app = $crate::TestApp::spawn_with_clock($crate::Backend::Sqlite, clock.clone()).await;
                super::$scenario(app, clock).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                let clock = $crate::test_clock();
                let app = $crate::TestApp::spawn_with_clock($crate::Backend::Postgres, clock.clone()).await;
                super::$scenario(app, clock).await;
            })*
        }
    };
}

/// As [`on_both_backends!`], for scenarios that start their own app: each gets the backend.
#[macro_export]
macro_rules! for_each_backend {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario($crate::Backend::Sqlite).await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $scenario() {
                super::$scenario($crate::Backend::Postgres).await;
            })*
        }
    };
}
