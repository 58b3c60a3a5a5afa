//! The hosted page under hostile forms (docs/reference/limits.md#bodies): every answer is a
//! page, and nothing a form sends can crash or bloat it.

use crate::checkout::HostedPage as _;
use crate::checkout::{Page, card_form};
use gatepost_testkit::{Backend, TestApp};
use serde_json::json;

async fn expiries_that_are_not_ascii_are_a_field_error_not_a_dropped_connection(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let checkout = app.checkout(json!({})).await;

    for expiry in ["1€", "€1", "1é1", "１２/３４"] {
        let token = app.page(&checkout.path).await.form_token();
        let mut form = card_form(&token, "4242424242424242");
        form.retain(|(name, _)| *name != "card_expiry");
        form.push(("card_expiry", expiry.to_owned()));
        let page = Page::from(app.submit(&checkout.path, &form).await).await;
        assert_eq!(page.status, 422, "{expiry}");
        assert!(page.contains("Enter the expiry date as MM/YY."), "{expiry}");
    }
    assert_eq!(app.payment_json(&checkout.payment_id).await["status"], "OPEN");
}

async fn a_form_over_64_kib_is_refused_with_a_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let checkout = app.checkout(json!({})).await;
    let token = app.page(&checkout.path).await.form_token();
    let mut form = card_form(&token, "4242424242424242");
    form.push(("padding", "x".repeat(2 * 1024 * 1024)));

    let page = Page::from(app.submit(&checkout.path, &form).await).await;

    assert_eq!(page.status, 413);
    assert_eq!(page.header("connection"), "close", "the rest of the body is never read");
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(page.header("content-security-policy").contains("nonce-"));
    let payment = app.payment_json(&checkout.payment_id).await;
    assert_eq!((payment["status"].as_str(), payment["attempts"].as_array().unwrap().len()), (Some("OPEN"), 0));
}

async fn fields_the_form_does_not_have_are_ignored(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let checkout = app.checkout(json!({})).await;
    let token = app.page(&checkout.path).await.form_token();
    let mut form = card_form(&token, "4242424242424242");
    for i in 0..2000 {
        form.push(("x", i.to_string()));
    }
    form.push(("form_token", "a second token is not read".to_owned()));

    let response = app.submit(&checkout.path, &form).await;

    assert!(response.status().is_redirection() || response.status().is_success(), "{}", response.status());
    assert_eq!(app.payment_json(&checkout.payment_id).await["status"], "SUCCESS");
}

gatepost_testkit::for_each_backend!(
    expiries_that_are_not_ascii_are_a_field_error_not_a_dropped_connection,
    a_form_over_64_kib_is_refused_with_a_page,
    fields_the_form_does_not_have_are_ignored,
);
