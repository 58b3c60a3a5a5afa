//! The shopper's journey in headless Chromium: the product page, the gateway's payment
//! page, and back to the shop, with every redirect followed by a real browser.

use crate::support::{APPROVED_CARD, Gateway, Shop, WAIT, order_id_in};
use gatepost_browser::{Browser, in_browser};

const PAID: &str = "Thank you — your order is paid";
const PENDING: &str = "Payment pending — we will e-mail you";
const FAILED: &str = "Payment failed — try again";

/// From the product page to the gateway's payment page, as a shopper clicks.
async fn buy(browser: &Browser, shop: &Shop, gateway: &Gateway) {
    browser.open(&shop.url("/")).await;
    assert_eq!(browser.text("h1").await, "Coffee beans, 1 kg");
    assert_eq!(browser.text("#price").await, "24.50 EUR");
    browser.click_through("#buy").await;
    browser.wait_for_url(&format!("{}/pay/", gateway.url)).await;
    assert_eq!(browser.text("h1").await, "24.50 EUR", "the payment page shows the order's amount");
}

/// Whether the page has an element with this id.
async fn has_element(browser: &Browser, id: &str) -> bool {
    browser.run_script(&format!("return document.getElementById('{id}') !== null;")).await == true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buying_with_an_approved_card_ends_on_the_shop_saying_paid() {
    let gateway = Gateway::start().await;
    let shop = Shop::start(&gateway).await;

    in_browser(async |browser| {
        buy(browser, &shop, &gateway).await;
        browser.fill_card(APPROVED_CARD).await;
        browser.click_through("#pay").await;

        let url = browser.wait_for_url(&shop.url("/orders/")).await;
        assert_eq!(browser.text("#status").await, PAID);
        assert!(!has_element(browser, "unverified").await, "the gateway's own return is genuine");
        let order_id = order_id_in(&url);
        let order = shop.wait_for_status(&order_id, "paid", WAIT).await;
        assert_eq!(order["payment_id"], gateway.newest_payment().await["id"]);
        assert_eq!(shop.fulfilments(&order_id), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_payment_stays_failed_when_its_return_link_is_edited_to_say_success() {
    let gateway = Gateway::start().await;
    let shop = Shop::start(&gateway).await;

    in_browser(async |browser| {
        buy(browser, &shop, &gateway).await;
        for _ in 0..3 {
            browser.fill_card("4000 0000 0000 0002").await;
            browser.click_through("#pay").await;
        }
        browser.click_through("#return").await;
        let url = browser.wait_for_url(&shop.url("/orders/")).await;
        assert_eq!(browser.text("#status").await, FAILED);
        let order_id = order_id_in(&url);
        shop.wait_for_status(&order_id, "failed", WAIT).await;

        // The shopper edits the link the gateway signed: the signature no longer matches.
        assert!(url.contains("payment_status=FAILED"), "{url}");
        browser.open(&url.replace("payment_status=FAILED", "payment_status=SUCCESS")).await;

        assert_eq!(browser.text("#status").await, FAILED);
        assert!(browser.text("#unverified").await.contains("could not verify"));
        assert_eq!(shop.order(&order_id).await["status"], "failed");
        assert_eq!(shop.fulfilments(&order_id), 0);

        // Trying again is a new order, and a new payment.
        browser.click_through("#buy-again").await;
        browser.wait_for_url(&format!("{}/pay/", gateway.url)).await;
        assert_ne!(gateway.newest_payment().await["reference"], order_id.as_str());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_async_payment_shows_pending_until_its_webhook_marks_the_order_paid() {
    // The sandbox settles this card 2 s after the attempt.
    let gateway = Gateway::start().await;
    let shop = Shop::start(&gateway).await;

    in_browser(async |browser| {
        buy(browser, &shop, &gateway).await;
        browser.fill_card("4000 0000 0000 0077").await;
        browser.click_through("#pay").await;

        let url = browser.wait_for_url(&shop.url("/orders/")).await;
        assert!(url.contains("payment_status=PENDING"), "{url}");
        assert_eq!(browser.text("#status").await, PENDING);
        let order_id = order_id_in(&url);
        assert_eq!(shop.order(&order_id).await["status"], "pending");

        shop.wait_for_status(&order_id, "paid", WAIT).await;
        // The pending page reloads itself, and now says so.
        browser.wait_until("the paid page", async |b| b.heading().await.as_deref() == Some(PAID)).await;
        assert_eq!(shop.fulfilments(&order_id), 1);
    })
    .await;
}
