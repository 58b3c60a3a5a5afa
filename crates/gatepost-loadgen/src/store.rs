//! The store alone, without HTTP: `concurrency` tasks create payments straight through
//! `gatepost_store` for `seconds`, then cancel them for `seconds` (each cancel a status
//! change with its event, as through the API). Every write is committed durably. What the
//! database path can do on this machine: the ceiling the API's figures are measured
//! against.

use gatepost_core::ids::MerchantId;
use gatepost_core::money::{Amount, Currency};
use gatepost_core::payment::{NewPayment, Payment};
use gatepost_core::status::PaymentEvent;
use gatepost_core::time::{Clock as _, SystemClock};
use gatepost_core::urls::Mode;
use gatepost_store::ChangeOutcome;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub(crate) async fn run(database_url: &str, concurrency: usize, seconds: u64) {
    let store = gatepost_store::open(database_url).await.expect("the database opens");
    store.migrate().await.expect("migrations apply");
    let merchant = gatepost::merchants::create_merchant(store.as_ref(), Mode::Sandbox, "Bench", None, "sandbox")
        .await
        .expect("merchant created");
    let merchant = MerchantId::from_trusted(merchant.id);
    let created = Arc::new(Mutex::new(Vec::new()));
    let (creates, create_latencies) = phase(concurrency, seconds, {
        let (store, merchant, created) = (Arc::clone(&store), merchant.clone(), Arc::clone(&created));
        move || {
            let (store, merchant, created) = (Arc::clone(&store), merchant.clone(), Arc::clone(&created));
            async move {
                let payment = payment(&merchant);
                let ok = store.create_payment(&payment).await.is_ok();
                created.lock().unwrap().push(payment.id);
                ok
            }
        }
    })
    .await;
    let (changes, change_latencies) = phase(concurrency, seconds, {
        let (store, merchant, created) = (Arc::clone(&store), merchant.clone(), Arc::clone(&created));
        move || {
            let (store, merchant, created) = (Arc::clone(&store), merchant.clone(), Arc::clone(&created));
            async move {
                let Some(id) = created.lock().unwrap().pop() else { return false };
                let outcome = store.apply(Some(&merchant), &id, PaymentEvent::Cancel, SystemClock.now()).await;
                matches!(outcome, Ok(ChangeOutcome::Applied { .. }))
            }
        }
    })
    .await;
    println!(
        "creates_per_s={creates:.0} create_p99_ms={:.2} changes_per_s={changes:.0} change_p99_ms={:.2}",
        crate::percentile_ms(&create_latencies, 0.99),
        crate::percentile_ms(&change_latencies, 0.99)
    );
}

/// Runs `one` from `concurrency` tasks for `seconds`; returns successes per second and
/// their sorted latencies.
async fn phase<F, Fut>(concurrency: usize, seconds: u64, one: F) -> (f64, Vec<Duration>)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let one = one.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let began = Instant::now();
                if one().await {
                    latencies.push(began.elapsed());
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("task"));
    }
    latencies.sort();
    (latencies.len() as f64 / started.elapsed().as_secs_f64(), latencies)
}

/// A payment as `POST /v1/payments` makes it for the benchmark's body.
fn payment(merchant: &MerchantId) -> Payment {
    let new = NewPayment {
        reference: Some("order-1234".to_owned()),
        description: Some("2 x coffee beans".to_owned()),
        ..NewPayment::of(Amount::new(1050, Currency::parse("EUR").expect("EUR")).expect("an amount"))
    };
    Payment::open(new, merchant, "http://127.0.0.1", false, SystemClock.now())
}
