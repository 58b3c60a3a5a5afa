//! The dashboard's pages on a big database (docs/reference/performance.md#targets):
//!
//! - `seed DATABASE_URL COUNT` makes a merchant with COUNT payments, straight through
//!   `gatepost_store` (as `POST /v1/payments` would), cancels every fourth one (a status
//!   change with its event), gives the merchant an admin, and prints a one-time sign-in
//!   link path: `merchant=… link=/dashboard/login/…`.
//! - `pages BASE_URL LINK_PATH REQUESTS` signs in with the link, then asks for each page
//!   REQUESTS times, one request at a time on a keep-alive connection, and prints each
//!   page's p50 and p99 in milliseconds: on loopback that is the server's time to answer.

use gatepost_core::ids::MerchantId;
use gatepost_core::money::{Amount, Currency};
use gatepost_core::payment::{NewPayment, Payment};
use gatepost_core::status::PaymentEvent;
use gatepost_core::time::{Clock as _, SystemClock};
use gatepost_core::urls::Mode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Writes at once while seeding: enough to fill the SQLite writer's batches.
const SEED_CONCURRENCY: usize = 64;

pub(crate) async fn seed(database_url: &str, count: u64) {
    let store = gatepost_store::open(database_url).await.expect("the database opens");
    store.migrate().await.expect("migrations apply");
    let created =
        gatepost::merchants::create_merchant(store.as_ref(), Mode::Sandbox, "Dashboard bench", None, "sandbox")
            .await
            .expect("merchant created");
    let merchant = MerchantId::from_trusted(created.id.clone());
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..SEED_CONCURRENCY {
        let (store, merchant, next) = (Arc::clone(&store), merchant.clone(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= count {
                    break;
                }
                let new = NewPayment {
                    reference: Some(format!("order-{n}")),
                    description: Some("2 x coffee beans".to_owned()),
                    ..NewPayment::of(
                        Amount::new(1050 + i64::try_from(n % 100).unwrap_or(0), Currency::parse("EUR").expect("EUR"))
                            .expect("an amount"),
                    )
                };
                let payment = Payment::open(new, &merchant, "http://127.0.0.1", false, SystemClock.now());
                store.create_payment(&payment).await.expect("payment stored");
                if n % 4 == 0 {
                    store
                        .apply(Some(&merchant), &payment.id, PaymentEvent::Cancel, SystemClock.now())
                        .await
                        .expect("cancelled");
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("seeding task");
    }
    let admin = gatepost::users::first_admin(store.as_ref(), &merchant).await.expect("an admin");
    let link = gatepost::users::sign_in_link(store.as_ref(), &admin, "").await.expect("a link");
    eprintln!("seeded {count} payments in {:.0} s", started.elapsed().as_secs_f64());
    println!("merchant={} link={link}", created.id);
}

/// The first `href` on `html` that starts with `prefix`.
fn first_link(html: &str, prefix: &str) -> Option<String> {
    let marker = format!("href=\"{prefix}");
    let start = html.find(&marker)? + "href=\"".len();
    let end = start + html[start..].find('"')?;
    Some(html[start..end].to_owned())
}

pub(crate) async fn pages(base_url: &str, link: &str, requests: usize) {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let signed_in = http.get(format!("{base_url}{link}")).send().await.expect("the link answers");
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_prefix("gatepost_session="))
        .and_then(|rest| rest.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let get = |path: String| {
        let request = http.get(format!("{base_url}{path}")).header("cookie", format!("gatepost_session={cookie}"));
        async move {
            let response = request.send().await.expect("the page answers");
            let ok = response.status().is_success();
            (ok, response.text().await.unwrap_or_default())
        }
    };
    let (_, list) = get("/dashboard/payments".to_owned()).await;
    let payment = first_link(&list, "/dashboard/payments/pay_").expect("a payment on the list");
    let (_, events) = get("/dashboard/events".to_owned()).await;
    let event = first_link(&events, "/dashboard/events/evt_").expect("an event on the list");
    let pages = [
        ("overview", "/dashboard".to_owned()),
        ("overview_7d", "/dashboard?window=7d".to_owned()),
        ("payments", "/dashboard/payments".to_owned()),
        ("payments_cancelled", "/dashboard/payments?status=CANCELLED".to_owned()),
        ("payments_failed", "/dashboard/payments?status=FAILED".to_owned()),
        ("payments_reference", "/dashboard/payments?q=order-777".to_owned()),
        ("payments_dates", "/dashboard/payments?from=2020-01-01&to=2020-01-31".to_owned()),
        ("payment", payment),
        ("links", "/dashboard/links".to_owned()),
        ("events", "/dashboard/events".to_owned()),
        ("events_failed", "/dashboard/events?delivery_status=FAILED".to_owned()),
        ("events_type", "/dashboard/events?type=payment.succeeded".to_owned()),
        ("event", event),
        ("webhooks", "/dashboard/webhooks".to_owned()),
        ("developers", "/dashboard/developers".to_owned()),
        ("settings", "/dashboard/settings".to_owned()),
    ];
    let mut worst = Duration::ZERO;
    let mut figures = Vec::new();
    for (name, path) in pages {
        let mut latencies = Vec::with_capacity(requests);
        for _ in 0..requests {
            let began = Instant::now();
            let (ok, _) = get(path.clone()).await;
            assert!(ok, "{path} answered an error");
            latencies.push(began.elapsed());
        }
        latencies.sort();
        worst = worst.max(*latencies.last().unwrap_or(&Duration::ZERO));
        figures.push(format!(
            "{name}_p50_ms={:.2} {name}_p99_ms={:.2}",
            crate::percentile_ms(&latencies, 0.50),
            crate::percentile_ms(&latencies, 0.99)
        ));
    }
    println!("{} worst_ms={:.2}", figures.join(" "), worst.as_secs_f64() * 1000.0);
}
