//! Paying, declining, retrying and cancelling on the card form, in Chromium.

use super::{Browser, MerchantReceiver, assert_signed_return, in_browser};
use crate::checkout::HostedPage as _;
use gatepost_testkit::{Backend, TestApp};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_card_lands_on_the_merchant_with_signed_parameters() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let merchant = MerchantReceiver::start().await;
    let checkout = app.checkout(json!({"reference": "order-1234", "return_url": merchant.url("/return")})).await;

    in_browser(async |browser| {
        browser.open(&app.url(&checkout.path)).await;
        assert_eq!(browser.text("h1").await, "10.50 EUR");
        browser.fill_card("4242 4242 4242 4242").await;
        browser.click_through("#pay").await;

        browser.wait_for_url(&merchant.url("/return?")).await;
        assert_eq!(browser.text("#merchant").await, "Merchant return page");
        let received = merchant.wait_for_the_return().await;
        assert_eq!(received.method, "GET");
        assert_signed_return(&app, &received, &checkout.payment_id, "SUCCESS", Some("order-1234"));
        assert_eq!(app.payment_json(&checkout.payment_id).await["status"], "SUCCESS");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_card_shows_the_reason_and_a_retry_with_another_card_succeeds() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let merchant = MerchantReceiver::start().await;
    let checkout = app.checkout(json!({"return_url": merchant.url("/return")})).await;

    in_browser(async |browser| {
        browser.open(&app.url(&checkout.path)).await;
        browser.fill_card("4000000000000002").await;
        browser.click_through("#pay").await;

        let notice = browser.text("[role=alert]").await;
        assert!(notice.contains("Your card was declined."), "{notice}");
        assert_eq!(browser.text("#attempts-left").await, "Attempts left: 2");
        assert!(merchant.received().is_empty(), "a decline stays on the page");

        browser.fill_card("4242424242424242").await;
        browser.click_through("#pay").await;

        browser.wait_for_url(&merchant.url("/return?")).await;
        let received = merchant.wait_for_the_return().await;
        assert_signed_return(&app, &received, &checkout.payment_id, "SUCCESS", None);
        let payment = app.payment_json(&checkout.payment_id).await;
        assert_eq!(payment["attempts"][0]["status"], "DECLINED");
        assert_eq!(payment["attempts"][1]["status"], "SUCCEEDED");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_declines_exceed_the_attempts_and_return_to_the_decline_url_as_failed() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let merchant = MerchantReceiver::start().await;
    let checkout = app
        .checkout(json!({
            "max_attempts": 3,
            "return_url": merchant.url("/return"),
            "return_urls": {"decline": merchant.url("/return?outcome=decline")}
        }))
        .await;

    in_browser(async |browser| {
        browser.open(&app.url(&checkout.path)).await;
        for attempts_left in [2, 1] {
            browser.fill_card("4000000000000002").await;
            browser.click_through("#pay").await;
            assert_eq!(browser.text("#attempts-left").await, format!("Attempts left: {attempts_left}"));
        }
        browser.fill_card("4000000000000002").await;
        browser.click_through("#pay").await;

        let message = browser.text("main").await;
        assert!(message.contains("The number of attempts was exceeded."), "{message}");
        assert!(merchant.received().is_empty(), "the shopper decides to leave");
        browser.click_through("#return").await;

        browser.wait_for_url(&merchant.url("/return?")).await;
        let received = merchant.wait_for_the_return().await;
        assert_eq!(received.query_param("outcome"), Some("decline"));
        assert_signed_return(&app, &received, &checkout.payment_id, "FAILED", None);
        let payment = app.payment_json(&checkout.payment_id).await;
        assert_eq!(payment["status"], "FAILED");
        assert_eq!(payment["attempts"].as_array().unwrap().len(), 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cancel_button_returns_to_the_cancel_url_as_cancelled() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let merchant = MerchantReceiver::start().await;
    let checkout = app
        .checkout(json!({
            "reference": "order-7",
            "return_url": merchant.url("/return"),
            "return_urls": {"cancel": merchant.url("/return?outcome=cancel")}
        }))
        .await;

    in_browser(async |browser| {
        browser.open(&app.url(&checkout.path)).await;
        // An empty form: Cancel must not need a card.
        browser.click_through("#cancel").await;

        browser.wait_for_url(&merchant.url("/return?")).await;
        let received = merchant.wait_for_the_return().await;
        assert_eq!(received.query_param("outcome"), Some("cancel"));
        assert_signed_return(&app, &received, &checkout.payment_id, "CANCELLED", Some("order-7"));
        let payment = app.payment_json(&checkout.payment_id).await;
        assert_eq!(payment["status"], "CANCELLED");
        assert_eq!(payment["attempts"], json!([]));
    })
    .await;
}

/// Clicks Pay twice, `gap_ms` apart, as a hasty double click does: the second submit goes
/// out while the first is in flight, and the browser abandons the first request.
async fn double_click_pay(browser: &Browser, gap_ms: u32) {
    browser
        .run_script(&format!(
            "const pay = document.getElementById('pay');
             pay.click();
             setTimeout(() => pay.click(), {gap_ms});"
        ))
        .await;
}

/// How far apart the two clicks are decides which request the server sees first, and
/// whether the browser abandons the first one: the tests try a few.
const CLICK_GAPS_MS: [u32; 3] = [0, 5, 10];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_click_on_pay_makes_exactly_one_attempt() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let merchant = MerchantReceiver::start().await;
    let back = merchant.url("/return?");

    in_browser(async |browser| {
        for gap_ms in CLICK_GAPS_MS {
            let checkout = app.checkout(json!({"return_url": merchant.url("/return")})).await;
            browser.open(&app.url(&checkout.path)).await;
            browser.fill_card("4242424242424242").await;

            double_click_pay(browser, gap_ms).await;

            // The browser shows the answer to the submit it kept: the merchant's page, or
            // the payment as the second submit found it.
            browser
                .wait_until("an answer to the double click", async |b| {
                    b.url().await.starts_with(&back)
                        || matches!(
                            b.heading().await.as_deref(),
                            Some("Payment successful" | "Processing your payment")
                        )
                })
                .await;
            let payment = app.payment_json(&checkout.payment_id).await;
            assert_eq!(payment["attempts"].as_array().unwrap().len(), 1, "clicks {gap_ms} ms apart: {payment}");
            assert_eq!(payment["attempts_remaining"], 2, "clicks {gap_ms} ms apart: {payment}");
        }
    })
    .await;
}

// When the browser abandons the first submit of a double click, the server drops that
// request's work half way today: its attempt stays PENDING, and the page says "Processing
// your payment" until the payment expires. The attempt must run to its end whether or not
// the browser still waits for the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_clicked_payment_completes_and_the_shopper_reaches_the_merchant() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    in_browser(async |browser| {
        for gap_ms in CLICK_GAPS_MS {
            let merchant = MerchantReceiver::start().await;
            let back = merchant.url("/return?");
            let checkout = app.checkout(json!({"return_url": merchant.url("/return")})).await;
            browser.open(&app.url(&checkout.path)).await;
            browser.fill_card("4242424242424242").await;

            double_click_pay(browser, gap_ms).await;

            let payment = app.wait_for_payment(&checkout.payment_id, "SUCCESS", |p| p["status"] == "SUCCESS").await;
            assert_eq!(payment["attempts"].as_array().unwrap().len(), 1, "clicks {gap_ms} ms apart: {payment}");
            // The shopper lands on the merchant or, when the browser showed the answer to
            // the second submit, on the result page with its way back.
            browser
                .wait_until("the merchant or the result page", async |b| {
                    b.url().await.starts_with(&back) || b.heading().await.as_deref() == Some("Payment successful")
                })
                .await;
            if !browser.url().await.starts_with(&back) {
                browser.click_through("#return").await;
                browser.wait_for_url(&back).await;
            }
            let received = merchant.wait_for_returns_of_one_kind().await;
            assert_signed_return(&app, &received, &checkout.payment_id, "SUCCESS", None);
        }
    })
    .await;
}
