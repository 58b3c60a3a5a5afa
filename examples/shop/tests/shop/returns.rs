//! The return page over plain HTTP: whatever the link says, the page shows the order as
//! the shop knows it.

use crate::support::{APPROVED_CARD, Gateway, Shop, Shopper, WAIT, location};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genuine_return_of_another_order_does_not_make_this_one_paid() {
    let gateway = Gateway::start().await;
    let shop = Shop::start(&gateway).await;
    let shopper = Shopper::new();
    // Order A is paid: the gateway signs its return for it.
    let paid = shopper.place_order(&shop, &gateway).await;
    let response = shopper.submit_card(&paid.checkout_url, APPROVED_CARD).await;
    assert_eq!(response.status(), 303);
    let genuine_return = location(&response);
    let (_, signed_query) = genuine_return.split_once('?').unwrap();
    // Order B is placed and never paid.
    let unpaid = shopper.place_order(&shop, &gateway).await;

    let (status, page) = shopper.get(&shop.url(&format!("/orders/{}/return?{signed_query}", unpaid.order_id))).await;

    assert_eq!(status, 200);
    assert!(page.contains("Not paid yet"), "{page}");
    assert!(!page.contains("your order is paid"), "{page}");
    assert!(page.contains("id=\"unverified\""), "the signature is for another order: {page}");
    assert_eq!(shop.order(&unpaid.order_id).await["status"], "pending");
    assert_eq!(shop.fulfilments(&unpaid.order_id), 0);
    // The same parameters on their own order's page are genuine.
    shop.wait_for_status(&paid.order_id, "paid", WAIT).await;
    let (_, page) = shopper.get(&genuine_return).await;
    assert!(page.contains("your order is paid"), "{page}");
    assert!(!page.contains("id=\"unverified\""), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_order_is_not_found() {
    let gateway = Gateway::start().await;
    let shop = Shop::start(&gateway).await;
    let shopper = Shopper::new();

    let (page_status, _) = shopper.get(&shop.url("/orders/ord_000000000000000000000000/return")).await;
    let (json_status, json) = shopper.get(&shop.url("/orders/ord_000000000000000000000000")).await;

    assert_eq!((page_status, json_status), (404, 404));
    assert_eq!(json, r#"{"error":"not_found"}"#);
}
