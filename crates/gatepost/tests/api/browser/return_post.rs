//! `return_method: POST` in Chromium: the nonce'd script submits the return form by itself.

use super::{MerchantReceiver, assert_signed_return, in_browser};
use crate::checkout::HostedPage as _;
use gatepost_testkit::{Backend, TestApp};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_return_is_submitted_by_the_pages_own_script_under_its_csp() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let merchant = MerchantReceiver::start().await;
    let checkout = app
        .checkout(json!({
            "reference": "order-post",
            "return_url": merchant.url("/return?shop=1"),
            "return_method": "POST"
        }))
        .await;

    in_browser(async |browser| {
        browser.open(&app.url(&checkout.path)).await;
        browser.fill_card("4242424242424242").await;
        browser.click_through("#pay").await;

        // Nobody clicks Continue: only the script, allowed by the CSP nonce, gets the
        // browser here. A blocked script would leave it on "Returning to Test Shop…".
        browser.wait_for_url(&merchant.url("/return?shop=1")).await;
        assert_eq!(browser.text("#merchant").await, "Merchant return page");
        let received = merchant.wait_for_the_return().await;
        assert_eq!(received.method, "POST");
        assert_eq!(received.query, [("shop".to_owned(), "1".to_owned())]);
        let names: Vec<&str> = received.form.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["payment_reference", "payment_status", "merchant_reference", "timestamp", "signature"]);
        assert_signed_return(&app, &received, &checkout.payment_id, "SUCCESS", Some("order-post"));
    })
    .await;
}
