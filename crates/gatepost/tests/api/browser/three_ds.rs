//! 3-D Secure in Chromium: the redirect to the sandbox issuer page and both of its answers.

use super::{MerchantReceiver, assert_signed_return, in_browser};
use crate::checkout::HostedPage as _;
use gatepost_testkit::{Backend, TestApp};
use serde_json::json;

/// The card that asks for a 3-D Secure challenge and is approved after it.
const CHALLENGE_CARD: &str = "4000000000003220";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticating_on_the_issuer_page_lands_on_the_merchant_as_success() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let merchant = MerchantReceiver::start().await;
    let checkout = app.checkout(json!({"reference": "order-3ds", "return_url": merchant.url("/return")})).await;

    in_browser(async |browser| {
        browser.open(&app.url(&checkout.path)).await;
        browser.fill_card(CHALLENGE_CARD).await;
        browser.click_through("#pay").await;

        browser.wait_for_url(&app.url(&format!("{}/3ds", checkout.path))).await;
        assert_eq!(browser.text("h1").await, "Confirm your payment");
        browser.fill("password", "password").await;
        browser.click_through("#authenticate").await;

        browser.wait_for_url(&merchant.url("/return?")).await;
        let received = merchant.wait_for_the_return().await;
        assert_signed_return(&app, &received, &checkout.payment_id, "SUCCESS", Some("order-3ds"));
        let payment = app.payment_json(&checkout.payment_id).await;
        assert_eq!(payment["attempts"][0]["three_ds"], json!({"required": true, "result": "AUTHENTICATED"}));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_on_the_issuer_page_returns_to_the_form_with_attempts_left() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let merchant = MerchantReceiver::start().await;
    let checkout = app.checkout(json!({"return_url": merchant.url("/return")})).await;

    in_browser(async |browser| {
        browser.open(&app.url(&checkout.path)).await;
        browser.fill_card(CHALLENGE_CARD).await;
        browser.click_through("#pay").await;
        browser.wait_for_url(&app.url(&format!("{}/3ds", checkout.path))).await;

        browser.click_through("#fail").await;

        assert_eq!(browser.text("#attempts-left").await, "Attempts left: 2");
        let notice = browser.text("[role=alert]").await;
        assert!(notice.contains("declined"), "{notice}");
        assert_eq!(browser.text("#pay").await, "Pay", "the form is back");
        assert!(merchant.received().is_empty(), "the shopper stays on the page");
        let payment = app.payment_json(&checkout.payment_id).await;
        assert_eq!(payment["status"], "OPEN");
        assert_eq!(payment["attempts"][0]["status"], "DECLINED");
        assert_eq!(payment["attempts"][0]["three_ds"]["result"], "FAILED");
    })
    .await;
}
