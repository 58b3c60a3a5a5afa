//! The card form's layout on a phone and on a desktop, measured in Chromium and kept as
//! screenshots in `target/test-artifacts/` for a person to look at.

use super::in_browser;
use crate::checkout::HostedPage as _;
use gatepost_browser::Browser;
use gatepost_testkit::{Backend, TestApp};
use serde_json::{Value, json};
use std::path::PathBuf;

/// Where screenshots go: the workspace's `target/test-artifacts/`.
fn artifacts_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/test-artifacts"));
    std::fs::create_dir_all(&dir).expect("artifacts dir");
    dir
}

/// What the page looks like to the layout engine: overflow, and where labels and
/// buttons ended up.
const MEASURE: &str = r"
    const width = document.documentElement.clientWidth;
    const box = (e) => e.getBoundingClientRect();
    const inside = (e) => { const r = box(e); return r.width > 0 && r.height > 0 && r.left >= 0 && r.right <= width + 0.5; };
    const main = box(document.querySelector('main'));
    return {
        viewport: window.innerWidth,
        overflow: document.documentElement.scrollWidth - width,
        outside: [...document.querySelectorAll('body *')]
            .filter((e) => box(e).width > 0 && !inside(e))
            .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')),
        labels: [...document.querySelectorAll('label')]
            .filter((l) => !(l.checkVisibility() && inside(l) && l.innerText.trim().length > 0))
            .map((l) => l.htmlFor),
        buttons: [...document.querySelectorAll('button')]
            .filter((b) => !(b.checkVisibility() && inside(b)))
            .map((b) => b.id),
        input_width: box(document.getElementById('card_number')).width,
        main: { left: main.left, right: width - main.right, width: main.width },
    };
";

/// Sizes the viewport, checks that nothing spills out of it, and saves a screenshot.
async fn measure_and_capture(browser: &Browser, width: u32, height: u32) -> Value {
    browser.resize_viewport(width, height).await;
    let layout = browser.run_script(MEASURE).await;
    let path = artifacts_dir().join(format!("hosted-page-{width}px.png"));
    std::fs::write(&path, browser.screenshot().await).expect("write screenshot");

    assert_eq!(layout["viewport"], width, "{layout}");
    assert_eq!(layout["overflow"], 0, "no horizontal scrolling at {width} px: {layout}");
    assert_eq!(layout["outside"], json!([]), "everything within {width} px: {layout}");
    assert_eq!(layout["labels"], json!([]), "every label visible at {width} px: {layout}");
    assert_eq!(layout["buttons"], json!([]), "both buttons visible at {width} px: {layout}");
    layout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_form_fits_a_phone_and_a_desktop_screen() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let checkout = app
        .checkout(json!({
            "amount": 123_456,
            "description": "2 x coffee beans, 1 x grinder",
            "reference": "order-1234",
            "return_url": "http://127.0.0.1:9/return"
        }))
        .await;

    in_browser(async |browser| {
        browser.open(&app.url(&checkout.path)).await;

        let phone = measure_and_capture(browser, 360, 800).await;
        let phone_input = phone["input_width"].as_f64().unwrap();
        assert!(phone_input >= 280.0, "the card number input uses the phone's width: {phone}");

        let desktop = measure_and_capture(browser, 1280, 800).await;
        let main_width = desktop["main"]["width"].as_f64().unwrap();
        assert!(main_width <= 480.0, "a narrow column on a desktop: {desktop}");
        let (left, right) = (desktop["main"]["left"].as_f64().unwrap(), desktop["main"]["right"].as_f64().unwrap());
        assert!((left - right).abs() <= 1.0, "the column is centred: {desktop}");
    })
    .await;
}
