//! 3-D Secure on the sandbox issuer page (docs/reference/hosted-page.md#3-d-secure).

use crate::checkout::HostedPage as _;
use crate::checkout::{Page, location};
use gatepost_testkit::TestApp;
use serde_json::json;

/// Pays with a challenge card and answers the issuer page.
async fn challenge(app: &TestApp, path: &str, card: &str, action: &str, password: &str) -> reqwest::Response {
    let response = app.pay(&crate::checkout::Checkout { payment_id: String::new(), path: path.to_owned() }, card).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), format!("{path}/3ds"));
    let issuer = app.page(&format!("{path}/3ds")).await;
    assert_eq!(issuer.status, 200);
    assert!(issuer.contains("name=\"password\""));
    assert!(issuer.contains("value=\"authenticate\"") && issuer.contains("value=\"fail\""));
    let fields =
        [("form_token", issuer.form_token()), ("password", password.to_owned()), ("action", action.to_owned())];
    app.submit(&format!("{path}/3ds"), &fields).await
}

async fn authenticating_continues_to_the_approval(app: TestApp) {
    let checkout = app.checkout(json!({"return_url": "https://shop.example/r"})).await;

    let response = challenge(&app, &checkout.path, "4000000000003220", "authenticate", "password").await;

    assert_eq!(response.status(), 303);
    assert!(location(&response).contains("payment_status=SUCCESS"));
    let payment = app.payment_json(&checkout.payment_id).await;
    assert_eq!(payment["status"], "SUCCESS");
    assert_eq!(payment["attempts"][0]["three_ds"], json!({"required": true, "result": "AUTHENTICATED"}));
}

async fn while_the_issuer_waits_the_payment_is_pending(app: TestApp) {
    let checkout = app.checkout(json!({})).await;

    app.pay(&checkout, "4000000000003220").await;

    let payment = app.payment_json(&checkout.payment_id).await;
    assert_eq!(payment["status"], "PENDING");
    assert_eq!(payment["attempts"][0]["status"], "ACTION_REQUIRED");
    let page = app.page(&checkout.path).await;
    assert_eq!(page.status, 303, "the page sends the shopper back to the issuer");
}

async fn failing_or_a_wrong_password_is_a_declined_attempt(app: TestApp) {
    for (action, password) in [("fail", "password"), ("authenticate", "wrong")] {
        let checkout = app.checkout(json!({})).await;

        let page = Page::from(challenge(&app, &checkout.path, "4000000000003220", action, password).await).await;

        assert_eq!(page.status, 200, "{action}/{password}: back to the form");
        assert!(page.contains("Attempts left: 2"));
        let payment = app.payment_json(&checkout.payment_id).await;
        assert_eq!(payment["status"], "OPEN");
        assert_eq!(payment["attempts"][0]["status"], "DECLINED");
        assert_eq!(payment["attempts"][0]["three_ds"]["result"], "FAILED");
    }
}

async fn the_decline_after_challenge_card_declines_after_authenticating(app: TestApp) {
    let checkout =
        app.checkout(json!({"max_attempts": 1, "return_urls": {"decline": "https://shop.example/no"}})).await;

    let page = Page::from(challenge(&app, &checkout.path, "4000008400001629", "authenticate", "password").await).await;

    assert!(page.contains("number of attempts was exceeded"));
    let payment = app.payment_json(&checkout.payment_id).await;
    assert_eq!(payment["status"], "FAILED");
    assert_eq!(payment["attempts"][0]["decline_code"], "card_declined");
    assert_eq!(payment["attempts"][0]["three_ds"]["result"], "AUTHENTICATED");
}

async fn the_issuer_form_is_single_use(app: TestApp) {
    let checkout = app.checkout(json!({"return_url": "https://shop.example/r"})).await;
    app.pay(&checkout, "4000000000003220").await;
    let issuer = app.page(&format!("{}/3ds", checkout.path)).await;
    let fields = [
        ("form_token", issuer.form_token()),
        ("password", "password".to_owned()),
        ("action", "authenticate".to_owned()),
    ];

    let first = app.submit(&format!("{}/3ds", checkout.path), &fields).await;
    let second = app.submit(&format!("{}/3ds", checkout.path), &fields).await;

    assert_eq!(first.status(), 303);
    assert_eq!(second.status(), 200, "the result is shown, nothing runs twice");
    let payment = app.payment_json(&checkout.payment_id).await;
    assert_eq!(payment["attempts"].as_array().unwrap().len(), 1);
}

gatepost_testkit::on_both_backends!(
    authenticating_continues_to_the_approval,
    while_the_issuer_waits_the_payment_is_pending,
    failing_or_a_wrong_password_is_a_declined_attempt,
    the_decline_after_challenge_card_declines_after_authenticating,
    the_issuer_form_is_single_use,
);
