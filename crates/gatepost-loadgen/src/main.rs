//! Load generators for `scripts/bench` (docs/reference/performance.md#targets); not part of
//! gatepost itself.
//!
//! ```text
//! gatepost-loadgen shopper BASE_URL API_KEY CONCURRENCY SECONDS
//! gatepost-loadgen receive COUNT
//! gatepost-loadgen latency BASE_URL API_KEY RATE SECONDS
//! gatepost-loadgen changes BASE_URL API_KEY CONCURRENCY SECONDS
//! gatepost-loadgen store DATABASE_URL CONCURRENCY SECONDS
//! gatepost-loadgen dashboard-seed DATABASE_URL COUNT
//! gatepost-loadgen dashboard-pages BASE_URL LINK_PATH REQUESTS
//! ```
//!
//! Each prints one line of `key=value` figures on stdout.

mod changes;
mod dashboard;
mod latency;
mod receiver;
mod shopper;
mod store;

use std::time::Duration;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_else(|| usage());
    let number = |i: usize| arg(i).parse::<u64>().unwrap_or_else(|_| usage());
    // The workspace builds reqwest without a crypto provider of its own: each binary picks one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match arg(0).as_str() {
        "shopper" => shopper::run(&arg(1), &arg(2), usize::try_from(number(3)).unwrap_or(64), number(4)).await,
        "receive" => receiver::count(usize::try_from(number(1)).unwrap_or(1)).await,
        "latency" => latency::run(&arg(1), &arg(2), number(3), Duration::from_secs(number(4))).await,
        "changes" => changes::run(&arg(1), &arg(2), usize::try_from(number(3)).unwrap_or(64), number(4)).await,
        "store" => store::run(&arg(1), usize::try_from(number(2)).unwrap_or(64), number(3)).await,
        "dashboard-seed" => dashboard::seed(&arg(1), number(2)).await,
        "dashboard-pages" => dashboard::pages(&arg(1), &arg(2), usize::try_from(number(3)).unwrap_or(200)).await,
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: gatepost-loadgen shopper BASE_URL API_KEY CONCURRENCY SECONDS\n       \
         gatepost-loadgen receive COUNT\n       gatepost-loadgen latency BASE_URL API_KEY RATE SECONDS\n       \
         gatepost-loadgen changes BASE_URL API_KEY CONCURRENCY SECONDS\n       \
         gatepost-loadgen store DATABASE_URL CONCURRENCY SECONDS\n       \
         gatepost-loadgen dashboard-seed DATABASE_URL COUNT\n       \
         gatepost-loadgen dashboard-pages BASE_URL LINK_PATH REQUESTS"
    );
    std::process::exit(2);
}

/// What [`work_through`] measured.
struct Worked {
    /// Each success's duration, sorted.
    latencies: Vec<Duration>,
    errors: usize,
    seconds: f64,
}

/// Works through `items` with `concurrency` workers for at most `seconds`: each takes the
/// next item and runs `one` on it, timed.
async fn work_through<T, F, Fut>(items: Vec<T>, concurrency: usize, seconds: u64, one: F) -> Worked
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let items = std::sync::Arc::new(tokio::sync::Mutex::new(items));
    let errors = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    let started = std::time::Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (items, errors, one) = (std::sync::Arc::clone(&items), std::sync::Arc::clone(&errors), one.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while std::time::Instant::now() < deadline {
                let Some(item) = items.lock().await.pop() else { break };
                let began = std::time::Instant::now();
                if one(item).await {
                    latencies.push(began.elapsed());
                } else {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await.expect("worker"));
    }
    latencies.sort();
    let errors = errors.load(std::sync::atomic::Ordering::Relaxed);
    Worked { latencies, errors, seconds: started.elapsed().as_secs_f64() }
}

/// The p-th percentile of sorted durations, in milliseconds.
fn percentile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let index = ((sorted.len() as f64 * p) as usize).min(sorted.len() - 1);
    sorted[index].as_secs_f64() * 1000.0
}
