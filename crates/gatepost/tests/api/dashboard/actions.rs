//! Capture, refund and cancel from a payment's page (docs/reference/dashboard.md#payment-actions):
//! the same rules as the API, once per form, only for admins, only with the session's
//! `csrf_token`, and written to the audit log.

use super::{Dashboard, see_other, user};
use crate::checkout::HostedPage as _;
use gatepost_core::ids::MerchantId;
use gatepost_testkit::TestApp;
use serde_json::json;

/// A paid payment of 10.50 EUR (`capture` automatic or manual).
async fn paid(app: &TestApp, capture: &str) -> String {
    let checkout = app.checkout(json!({"capture": capture})).await;
    app.pay(&checkout, "4242424242424242").await;
    checkout.payment_id
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    let merchant = MerchantId::parse(&app.merchant.id).unwrap();
    let log = app.store.audit_log(&merchant, None, 100).await.unwrap();
    log.data.iter().map(|entry| gatepost_core::names::Named::as_str(entry.action).to_owned()).collect()
}

async fn an_admin_refunds_part_of_a_payment_once_per_form(app: TestApp) {
    let id = paid(&app, "automatic").await;
    let dashboard = Dashboard::admin(&app).await;
    let page = dashboard.page(&format!("/dashboard/payments/{id}")).await;
    assert!(page.contains("action=\"/dashboard/payments/") && page.contains("/refund\""), "{}", page.html);
    let key = page.input("idempotency_key").unwrap();
    let form = |amount: &str| {
        vec![
            ("amount", amount.to_owned()),
            ("reason", "damaged <b>box</b>".to_owned()),
            ("confirm", "yes".to_owned()),
            ("idempotency_key", key.clone()),
        ]
    };
    let refunded = dashboard.post(&format!("/dashboard/payments/{id}/refund"), &form("5.00")).await;
    assert_eq!(see_other(&refunded), format!("/dashboard/payments/{id}?done=refund"));
    let again = dashboard.post(&format!("/dashboard/payments/{id}/refund"), &form("5.00")).await;
    assert_eq!(see_other(&again), format!("/dashboard/payments/{id}?done=refund"), "a second click replays");
    let other_values = dashboard.post(&format!("/dashboard/payments/{id}/refund"), &form("1.00")).await;
    assert_eq!(other_values.status(), 409, "the same form with other values");
    let payment = app.wait_for_payment(&id, "the refund", |p| p["amount_refunded"] == 500).await;
    assert_eq!(payment["refunds"].as_array().unwrap().len(), 1, "one refund: {payment}");
    assert_eq!(payment["refunds"][0]["reason"], "damaged <b>box</b>");

    let shown = dashboard.page(&format!("/dashboard/payments/{id}?done=refund")).await;
    assert!(shown.contains("Refund requested"), "{}", shown.html);
    assert!(shown.contains("damaged &#60;b&#62;box"), "{}", shown.html);
    let too_much = dashboard.act(&id, "refund", &[("amount", "6.00"), ("confirm", "yes")]).await;
    assert_eq!(too_much.status(), 422);
    assert!(too_much.text().await.unwrap().contains("5.50 EUR can still be refunded"));
    for bad in ["-1", "abc", "5.001", "0"] {
        let response = dashboard.act(&id, "refund", &[("amount", bad), ("confirm", "yes")]).await;
        assert_eq!(response.status(), 422, "{bad}");
    }
    let unconfirmed = dashboard.act(&id, "refund", &[("amount", "1.00")]).await;
    assert_eq!(unconfirmed.status(), 422);
    assert_eq!(app.payment_json(&id).await["amount_refunded"], 500, "nothing more was refunded");
    assert!(audit_actions(&app).await.contains(&"payment_refunded".to_owned()));
}

async fn an_admin_captures_part_and_cancels(app: TestApp) {
    let authorized = paid(&app, "manual").await;
    let dashboard = Dashboard::admin(&app).await;
    let captured = dashboard.act(&authorized, "capture", &[("amount", "6.00"), ("confirm", "yes")]).await;
    assert_eq!(see_other(&captured), format!("/dashboard/payments/{authorized}?done=capture"));
    let payment = app.payment_json(&authorized).await;
    assert_eq!((payment["status"].as_str(), payment["amount_captured"].as_i64()), (Some("SUCCESS"), Some(600)));
    let twice = dashboard.act(&authorized, "capture", &[("confirm", "yes")]).await;
    assert_eq!(twice.status(), 409, "the API's rule: only an AUTHORIZED payment is captured");

    let open = app.create_payment(&json!({"amount": 400, "currency": "EUR"})).await;
    let open = open["id"].as_str().unwrap();
    let cancelled = dashboard.act(open, "cancel", &[("confirm", "yes")]).await;
    assert_eq!(see_other(&cancelled), format!("/dashboard/payments/{open}?done=cancel"));
    assert_eq!(app.payment_json(open).await["status"], "CANCELLED");
    let actions = audit_actions(&app).await;
    for action in ["payment_captured", "payment_cancelled", "sign_in"] {
        assert!(actions.contains(&action.to_owned()), "{action} in {actions:?}");
    }
}

async fn a_form_without_the_right_csrf_token_changes_nothing(app: TestApp) {
    let id = paid(&app, "automatic").await;
    let dashboard = Dashboard::admin(&app).await;
    let page = dashboard.page(&format!("/dashboard/payments/{id}")).await;
    let key = page.input("idempotency_key").unwrap();
    let base = vec![("amount", "1.00".to_owned()), ("confirm", "yes".to_owned()), ("idempotency_key", key.clone())];
    let path = format!("/dashboard/payments/{id}/refund");
    assert_eq!(dashboard.post_raw(&path, &base).await.status(), 403, "no token");
    let mut wrong = base.clone();
    wrong.push(("csrf_token", format!("{}A", dashboard.csrf)));
    assert_eq!(dashboard.post_raw(&path, &wrong).await.status(), 403, "a wrong token");
    // Another session's token is wrong here too.
    let other = Dashboard::sign_in(&app, &user(&app, &app.merchant.id, "bo@shop.example", "admin").await).await;
    let mut theirs = base.clone();
    theirs.push(("csrf_token", other.csrf.clone()));
    assert_eq!(dashboard.post_raw(&path, &theirs).await.status(), 403, "another session's token");
    let unsigned = app.http.post(app.url(&path)).form(&base).send().await.unwrap();
    assert_eq!(unsigned.status(), 403, "no session");
    assert_eq!(app.payment_json(&id).await["amount_refunded"], 0);
    assert!(!audit_actions(&app).await.contains(&"payment_refunded".to_owned()));
}

async fn a_viewer_sees_no_actions_and_their_posts_are_refused(app: TestApp) {
    let id = paid(&app, "automatic").await;
    let viewer = user(&app, &app.merchant.id, "view@shop.example", "viewer").await;
    let dashboard = Dashboard::sign_in(&app, &viewer).await;
    let page = dashboard.page(&format!("/dashboard/payments/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(!page.contains("/refund\""), "no refund form for a viewer");
    let refused = dashboard
        .post(
            &format!("/dashboard/payments/{id}/refund"),
            &[("amount", "1.00".into()), ("confirm", "yes".into()), ("idempotency_key", "k1".into())],
        )
        .await;
    assert_eq!(refused.status(), 403);
    assert_eq!(app.payment_json(&id).await["amount_refunded"], 0);
}

async fn another_merchants_payment_cannot_be_acted_on(app: TestApp) {
    let other = app.create_merchant("Other Shop").await;
    let created = app.post_as(&other.api_key, "/v1/payments", r#"{"amount":500,"currency":"EUR"}"#, None).await;
    let theirs: serde_json::Value = created.json().await.unwrap();
    let theirs = theirs["id"].as_str().unwrap();
    let dashboard = Dashboard::admin(&app).await;
    let response = dashboard
        .post(
            &format!("/dashboard/payments/{theirs}/cancel"),
            &[("confirm", "yes".into()), ("idempotency_key", "k2".into())],
        )
        .await;
    assert_eq!(response.status(), 404);
    let status = app.get_as(&other.api_key, &format!("/v1/payments/{theirs}")).await;
    let status: serde_json::Value = status.json().await.unwrap();
    assert_eq!(status["status"], "OPEN");
}

async fn a_form_sent_many_times_at_once_acts_once(app: TestApp) {
    let id = paid(&app, "automatic").await;
    let dashboard = Dashboard::admin(&app).await;
    let page = dashboard.page(&format!("/dashboard/payments/{id}")).await;
    let key = page.input("idempotency_key").unwrap();
    let form = vec![("amount", "1.00".to_owned()), ("confirm", "yes".to_owned()), ("idempotency_key", key)];
    let path = format!("/dashboard/payments/{id}/refund");
    let sends = (0..12).map(|_| dashboard.post(&path, &form));
    let answers = futures::future::join_all(sends).await;
    for answer in &answers {
        assert!([303, 409].contains(&answer.status().as_u16()), "{}", answer.status());
    }
    assert!(answers.iter().any(|a| a.status() == 303));
    let payment = app.wait_for_payment(&id, "the refund", |p| p["amount_refunded"] == 100).await;
    assert_eq!(payment["refunds"].as_array().unwrap().len(), 1, "one refund for twelve sends: {payment}");
}

gatepost_testkit::on_both_backends!(
    a_form_sent_many_times_at_once_acts_once,
    an_admin_refunds_part_of_a_payment_once_per_form,
    an_admin_captures_part_and_cancels,
    a_form_without_the_right_csrf_token_changes_nothing,
    a_viewer_sees_no_actions_and_their_posts_are_refused,
    another_merchants_payment_cannot_be_acted_on,
);
