//! The dashboard in a real Chromium (docs/reference/dashboard.md): a merchant signs in with
//! a one-time link, finds a payment, refunds part of it, captures another, resends a failed
//! webhook, makes a payment link that a shopper pays in a second browser, creates an endpoint
//! that receives its test event, makes and revokes an API key and exports CSV. Then every
//! page is checked with axe-core (no serious or critical violation), for sideways scrolling
//! at 1280, 640 (200 % zoom), 390 and 360 px, and photographed at 1280 and 390 px into
//! `target/test-artifacts/`.

use crate::checkout::HostedPage as _;
use crate::webhooks::{events_of, quick_app, wait_for_delivery_status};
use gatepost::users;
use gatepost_browser::{Browser, in_browser_within};
use gatepost_testkit::receiver::{Receiver, Reply, python_verifies};
use gatepost_testkit::{Backend, TestApp};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

/// Within nextest's 120 s limit for a test.
const LIMIT: Duration = Duration::from_secs(100);

/// Signs a new admin in with a one-time link, as the printed link would.
async fn sign_in(app: &TestApp, browser: &Browser) {
    let admin =
        users::create_user(app.store.as_ref(), &app.merchant.id, "admin@shop.example", "admin", None).await.unwrap();
    let link = users::sign_in_link(app.store.as_ref(), &admin, &app.base_url).await.unwrap();
    browser.open(&link).await;
    // The link's page moves on to the overview by itself.
    browser.wait_until("the overview", async |b| b.url().await == app.url("/dashboard")).await;
    assert_eq!(browser.heading().await.as_deref(), Some("Overview"));
}

/// The value of the input `id` on the page.
async fn value_of(browser: &Browser, id: &str) -> String {
    let value = browser.run_script(&format!("return document.getElementById('{id}').value;")).await;
    value.as_str().unwrap_or_else(|| panic!("no #{id}")).to_owned()
}

/// Reloads the page until its text contains `text`.
async fn reload_until(browser: &Browser, url: &str, text: &str) {
    browser
        .wait_until(&format!("{text:?} on {url}"), async |b| {
            b.open(url).await;
            b.text("main").await.contains(text)
        })
        .await;
}

async fn act(browser: &Browser, form: &str, fields: &[(&str, &str)]) {
    for (name, value) in fields {
        browser.fill_in(&format!("{form} input[name=\"{name}\"]"), value).await;
    }
    if browser.has(&format!("{form} input[name=\"confirm\"]")).await {
        browser.click(&format!("{form} input[name=\"confirm\"]")).await;
    }
    browser.click_through(&format!("{form} button[type=\"submit\"]")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_finds_refunds_captures_resends_and_makes_links_in_the_browser() {
    let app = quick_app(Backend::Sqlite, &[50]).await;
    let paid = app.checkout(json!({"reference": "order-1234"})).await;
    app.pay(&paid, "4242424242424242").await;
    let authorized = app.checkout(json!({"capture": "manual", "reference": "order-1235"})).await;
    app.pay(&authorized, "4242424242424242").await;
    let down = Receiver::start().await;
    down.queue([Reply::Status(500, vec![]), Reply::Status(500, vec![])]);
    let failing = app.checkout(json!({"webhook_url": down.url, "reference": "order-1236"})).await;
    app.pay(&failing, "4242424242424242").await;
    let failed_event = events_of(&app, &failing.payment_id).await[0]["id"].as_str().unwrap().to_owned();
    wait_for_delivery_status(&app, &failed_event, "FAILED").await;
    let hooks = Receiver::start().await;

    in_browser_within(LIMIT, async |browser| {
        sign_in(&app, browser).await;

        // Find the payment of order 1234 and refund 5 EUR of it.
        browser.open(&app.url("/dashboard/payments")).await;
        browser.fill("q", "order-1234").await;
        browser.click_through("form[role=\"search\"] button").await;
        assert_eq!(browser.run_script("return document.querySelectorAll('tbody tr').length;").await, json!(1));
        browser.click_through(&format!("a[href=\"/dashboard/payments/{}\"]", paid.payment_id)).await;
        act(browser, "form[action$=\"/refund\"]", &[("amount", "5.00"), ("reason", "damaged box")]).await;
        assert!(browser.text(".notice").await.contains("Refund requested"));
        let page = app.url(&format!("/dashboard/payments/{}", paid.payment_id));
        reload_until(browser, &page, "Event payment.refunded").await;
        assert!(browser.text("main").await.contains("5.00 EUR · damaged box"));
        assert_eq!(app.payment_json(&paid.payment_id).await["amount_refunded"], 500);

        // Capture the authorized one.
        browser.open(&app.url(&format!("/dashboard/payments/{}", authorized.payment_id))).await;
        act(browser, "form[action$=\"/capture\"]", &[("amount", "10.50")]).await;
        assert_eq!(browser.text(".notice").await, "Captured.");
        assert_eq!(app.payment_json(&authorized.payment_id).await["status"], "SUCCESS");

        // Resend the event the receiver missed while it was down.
        browser.open(&app.url("/dashboard/events?delivery_status=FAILED")).await;
        browser.click_through(&format!("a[href=\"/dashboard/events/{failed_event}\"]")).await;
        browser.select("endpoint_id", "").await;
        browser.click_through("form[action$=\"/resend\"] button").await;
        assert!(browser.text(".notice").await.contains("Resend requested"));
        wait_for_delivery_status(&app, &failed_event, "DELIVERED").await;
        reload_until(browser, &app.url(&format!("/dashboard/events/{failed_event}")), "(manual)").await;
        assert_eq!(down.received().len(), 3);

        // Make a payment link; a shopper pays it in another browser.
        browser.open(&app.url("/dashboard/links")).await;
        browser.fill("amount", "25.00").await;
        browser.fill("description", "Invoice 117").await;
        browser.click_through("form[action=\"/dashboard/links\"] button").await;
        let url = value_of(browser, "link-url").await;
        assert!(browser.has("svg[aria-label=\"QR code of the payment link\"]").await);
        let link_page = browser.url().await;
        let payment_id = link_page.rsplit('/').next().unwrap().to_owned();
        let shopper = Browser::launch().await;
        shopper.open(&url).await;
        shopper.fill_card("4242424242424242").await;
        shopper.click_through("#pay").await;
        shopper.close().await;
        reload_until(browser, &app.url(&format!("/dashboard/payments/{payment_id}")), "SUCCESS").await;

        // An endpoint made here gets its test event, signed with the secret shown once.
        browser.open(&app.url("/dashboard/webhooks")).await;
        browser.fill("url", &hooks.url).await;
        browser.click("input[name=\"enabled_events\"][value=\"*\"]").await;
        browser.click("input[name=\"enabled_events\"][value=\"webhook_endpoint.test\"]").await;
        browser.click_through("form[action=\"/dashboard/webhooks\"] button").await;
        let secret = value_of(browser, "secret").await;
        browser.click_through("form[action$=\"/test\"] button").await;
        let received = hooks.wait_for(1, Duration::from_secs(10)).await;
        assert_eq!(received[0].json()["type"], "webhook_endpoint.test");
        assert!(python_verifies(&secret, &received[0]));

        // An API key: made, used, revoked.
        browser.open(&app.url("/dashboard/developers")).await;
        browser.fill("description", "backend").await;
        browser.click_through("form[action=\"/dashboard/developers/keys\"] button").await;
        let key = value_of(browser, "new-key").await;
        assert_eq!(app.get_as(&key, "/v1/payments").await.status(), 200);
        browser.open(&app.url("/dashboard/developers")).await;
        let forms = browser
            .run_script("return [...document.querySelectorAll('form[action$=\"/revoke\"]')].map(f => f.action);")
            .await;
        let newest = forms[0].as_str().unwrap().to_owned();
        let path = newest.strip_prefix(&app.base_url).unwrap().to_owned();
        act(browser, &format!("form[action=\"{path}\"]"), &[]).await;
        let start = std::time::Instant::now();
        while app.get_as(&key, "/v1/payments").await.status() != 401 {
            assert!(start.elapsed() < Duration::from_millis(1500), "refused within a second");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // The CSV export of the filtered list.
        browser.open(&app.url("/dashboard/payments?status=SUCCESS")).await;
        let csv = browser
            .run_async_script(
                "const done = arguments[arguments.length - 1];
                 const href = document.querySelector('a[href*=\"format=csv\"]').getAttribute('href');
                 fetch(href).then(r => r.text()).then(done, e => done(String(e)));",
            )
            .await;
        let csv = csv.as_str().unwrap();
        assert_eq!(csv.lines().count(), 1 + 4, "a header and the 4 SUCCESS payments:\n{csv}");
        assert!(csv.lines().skip(1).all(|line| line.contains("\"SUCCESS\"")), "{csv}");
    })
    .await;
}

/// Where screenshots go: the workspace's `target/test-artifacts/`.
fn artifacts_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/test-artifacts"));
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

/// axe-core's script, as `scripts/test` unpacks it (the newest version there).
fn axe_source() -> String {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/axe"));
    let path = std::env::var("GATEPOST_TEST_AXE").map(PathBuf::from).unwrap_or_else(|_| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir(&root)
            .unwrap_or_else(|_| panic!("no {} (scripts/test fetches axe-core)", root.display()))
            .filter_map(|entry| entry.ok().map(|e| e.path().join("package/axe.min.js")))
            .filter(|path| path.exists())
            .collect();
        versions.sort();
        versions.pop().expect("axe.min.js (scripts/test fetches axe-core)")
    });
    std::fs::read_to_string(path).expect("axe-core's script")
}

/// The serious and critical accessibility violations of the page, by rule and element.
async fn violations(browser: &Browser, axe: &str) -> Value {
    browser.run_script(&format!("{axe}\nreturn true;")).await;
    browser
        .run_async_script(
            "const done = arguments[arguments.length - 1];
             axe.run(document, {resultTypes: ['violations']}).then(
               r => done(r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
                 .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))),
               e => done(String(e)));",
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_page_is_accessible_and_fits_a_phone_and_a_desktop() {
    let app = quick_app(Backend::Sqlite, &[50]).await;
    let paid = app.checkout(json!({"reference": "order-1234", "description": "Blue mug", "customer": {"name": "Ana", "email": "ana@shop.example"}})).await;
    app.pay(&paid, "4000000000000002").await;
    app.pay(&paid, "4242424242424242").await;
    let receiver = Receiver::start().await;
    let endpoint = app.post_json("/v1/webhook_endpoints", &json!({"url": receiver.url, "description": "orders"})).await;
    let endpoint: Value = endpoint.json().await.unwrap();
    let open = app
        .create_payment(
            &json!({"amount": 4900, "currency": "EUR", "description": "Invoice 117", "expires_in": 604_800}),
        )
        .await;
    let event = events_of(&app, &paid.payment_id).await[0]["id"].as_str().unwrap().to_owned();
    let axe = axe_source();

    in_browser_within(LIMIT, async |browser| {
        let signed_out = [("sign-in", app.url("/dashboard/login")), ("not-found", app.url("/dashboard/nowhere"))];
        let pages = [
            ("overview", app.url("/dashboard")),
            ("payments", app.url("/dashboard/payments")),
            ("payment", app.url(&format!("/dashboard/payments/{}", paid.payment_id))),
            ("links", app.url("/dashboard/links")),
            ("link", app.url(&format!("/dashboard/links/{}", open["id"].as_str().unwrap()))),
            ("events", app.url("/dashboard/events")),
            ("event", app.url(&format!("/dashboard/events/{event}"))),
            ("webhooks", app.url("/dashboard/webhooks")),
            ("webhook", app.url(&format!("/dashboard/webhooks/{}", endpoint["id"].as_str().unwrap()))),
            ("developers", app.url("/dashboard/developers")),
            ("settings", app.url("/dashboard/settings")),
        ];
        let mut problems = Vec::new();
        let mut visit = async |name: &str, url: &str| {
            browser.open(url).await;
            // 360 px is a small phone; 640 px is 1280 px at 200 % zoom.
            for (width, height, photographed) in
                [(1280, 900, true), (640, 900, false), (390, 844, true), (360, 740, false)]
            {
                browser.resize_viewport(width, height).await;
                let overflow = browser
                    .run_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
                    .await;
                if overflow != json!(0) {
                    problems.push(format!("{name} at {width} px scrolls sideways by {overflow} px"));
                }
                if photographed {
                    let path = artifacts_dir().join(format!("dashboard-{name}-{width}px.png"));
                    std::fs::write(&path, browser.screenshot().await).expect("write screenshot");
                }
            }
            let found = violations(browser, &axe).await;
            if found != json!([]) {
                problems.push(format!("{name}: {found}"));
            }
        };
        for (name, url) in &signed_out {
            visit(name, url).await;
        }
        sign_in(&app, browser).await;
        for (name, url) in &pages {
            visit(name, url).await;
        }
        assert!(problems.is_empty(), "{problems:#?}");
    })
    .await;
}

/// The README's walkthrough in the browser, step by step: the link `serve` prints on an
/// empty sandbox makes the merchant; a payment link is made, paid and refunded without any
/// code. Its last screenshot is the README's (`docs/images/dashboard-payment.png`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_follows_the_printed_link_then_sees_pays_and_refunds_a_payment() {
    let app = quick_app(Backend::Sqlite, &[50]).await;
    let link = users::sandbox_setup_link(app.store.as_ref(), &app.base_url).await.unwrap();
    in_browser_within(LIMIT, async |browser| {
        browser.open(&link).await;
        assert_eq!(browser.heading().await.as_deref(), Some("Your sandbox merchant is ready"));
        let key = value_of(browser, "api-key").await;
        assert!(key.starts_with("sk_test_"));
        browser.click_through("a.button[href=\"/dashboard\"]").await;
        assert_eq!(browser.heading().await.as_deref(), Some("Overview"));
        assert!(browser.text("header").await.contains("My Shop"));

        browser.click_through("nav a[href=\"/dashboard/links\"]").await;
        browser.fill("amount", "10.50").await;
        browser.click_through("form[action=\"/dashboard/links\"] button").await;
        let url = value_of(browser, "link-url").await;
        browser.open(&url).await;
        browser.fill_card("4242 4242 4242 4242").await;
        browser.click_through("#pay").await;

        browser.open(&app.url("/dashboard/payments")).await;
        assert!(browser.text("tbody").await.contains("SUCCESS"));
        browser.click_through("tbody a").await;
        act(browser, "form[action$=\"/refund\"]", &[("amount", "5.00"), ("reason", "requested by the customer")]).await;
        let page = browser.url().await;
        reload_until(browser, &page, "Event payment.refunded").await;
        assert!(browser.text("main").await.contains("Event payment.succeeded"));
        // Tall enough for the facts, the refund form and the timeline in one picture.
        browser.resize_viewport(1280, 1500).await;
        let path = artifacts_dir().join("dashboard-walkthrough-1280px.png");
        std::fs::write(&path, browser.screenshot().await).expect("write screenshot");
        // The same key works on the API.
        assert_eq!(app.get_as(&key, "/v1/payments").await.status(), 200);
    })
    .await;
}
