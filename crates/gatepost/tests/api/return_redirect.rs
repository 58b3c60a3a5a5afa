//! The return redirect, the shopper's channel (docs/reference/returns.md).

use crate::checkout::HostedPage as _;
use crate::checkout::{Page, location, query_pairs};
use gatepost_core::signing::{ReturnFields, WebhookSecret};
use gatepost_testkit::TestApp;
use serde_json::json;

/// Checks the appended parameters: names in order, values, and the signature.
fn assert_signed_return(
    app: &TestApp,
    params: &[(String, String)],
    payment_id: &str,
    status: &str,
    reference: Option<&str>,
) {
    let names: Vec<&str> = params.iter().map(|(k, _)| k.as_str()).collect();
    let mut expected = vec!["payment_reference", "payment_status"];
    if reference.is_some() {
        expected.push("merchant_reference");
    }
    expected.extend(["timestamp", "signature"]);
    let appended = &names[names.len() - expected.len()..];
    assert_eq!(appended, expected.as_slice(), "appended after the merchant's own query: {names:?}");
    let value = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap();
    assert_eq!(value("payment_reference"), payment_id);
    assert_eq!(value("payment_status"), status);
    if let Some(reference) = reference {
        assert_eq!(value("merchant_reference"), reference);
    }
    let timestamp: i64 = value("timestamp").parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!((i64::try_from(now).unwrap() - timestamp).abs() < 60, "a current unix timestamp");
    let fields = ReturnFields {
        timestamp,
        payment_reference: payment_id,
        payment_status: status,
        merchant_reference: reference.unwrap_or_default(),
    };
    let secret = WebhookSecret::parse(&app.merchant.webhook_secret).unwrap();
    assert!(secret.verify_return(&fields, value("signature")), "signature verifies with the webhook secret");
    let tampered = ReturnFields { payment_status: "SUCCESS", ..fields };
    if status != "SUCCESS" {
        assert!(!secret.verify_return(&tampered, value("signature")), "a changed status does not verify");
    }
}

async fn an_approved_payment_returns_with_303_and_signed_parameters_after_the_merchants_query(app: TestApp) {
    let checkout =
        app.checkout(json!({"reference": "Bestellung/ä 42", "return_url": "https://shop.example/r?a=1#frag"})).await;

    let response = app.pay(&checkout, "4242424242424242").await;

    assert_eq!(response.status(), 303);
    let location = location(&response);
    assert!(location.starts_with("https://shop.example/r?a=1&payment_reference="), "{location}");
    assert!(location.ends_with("#frag"), "the fragment is kept: {location}");
    let params = query_pairs(&location);
    assert_eq!(params[0], ("a".to_owned(), "1".to_owned()));
    assert_signed_return(&app, &params, &checkout.payment_id, "SUCCESS", Some("Bestellung/ä 42"));
}

async fn merchant_reference_is_left_out_when_the_payment_has_none(app: TestApp) {
    let checkout = app.checkout(json!({"return_url": "https://shop.example/r"})).await;

    let response = app.pay(&checkout, "4242424242424242").await;

    let params = query_pairs(&location(&response));
    assert_signed_return(&app, &params, &checkout.payment_id, "SUCCESS", None);
}

async fn each_outcome_uses_its_url_or_falls_back(app: TestApp) {
    let all = json!({
        "return_url": "https://shop.example/fallback",
        "return_urls": {
            "success": "https://shop.example/success",
            "decline": "https://shop.example/decline",
            "cancel": "https://shop.example/cancel",
            "pending": "https://shop.example/pending"
        },
        "max_attempts": 1
    });
    let only_fallback = json!({"return_url": "https://shop.example/fallback", "max_attempts": 1});
    let success_only = json!({"return_url": "https://shop.example/fallback", "return_urls": {"success": "https://shop.example/success"}});
    let cases = [
        (all.clone(), "4242424242424242", "https://shop.example/success", "SUCCESS"),
        (
            json!({"capture": "manual", "return_urls": {"success": "https://shop.example/success"}}),
            "4242424242424242",
            "https://shop.example/success",
            "AUTHORIZED",
        ),
        (all.clone(), "4000000000000077", "https://shop.example/pending", "PENDING"),
        (success_only, "4000000000000077", "https://shop.example/success", "PENDING"),
        (only_fallback.clone(), "4000000000000077", "https://shop.example/fallback", "PENDING"),
        (only_fallback.clone(), "4242424242424242", "https://shop.example/fallback", "SUCCESS"),
    ];
    for (body, card, url, status) in cases {
        let checkout = app.checkout(body).await;
        let response = app.pay(&checkout, card).await;
        assert_eq!(response.status(), 303, "{card} {status}");
        let location = location(&response);
        assert!(location.starts_with(&format!("{url}?")), "{status}: {location}");
        assert_signed_return(&app, &query_pairs(&location), &checkout.payment_id, status, None);
    }

    // FAILED goes to the decline URL, else the fallback; CANCELLED to the cancel URL.
    for (body, url) in
        [(all.clone(), "https://shop.example/decline"), (only_fallback.clone(), "https://shop.example/fallback")]
    {
        let checkout = app.checkout(body).await;
        let page = Page::from(app.pay(&checkout, "4000000000000002").await).await;
        assert!(page.contains(&format!("href=\"{url}?")), "FAILED links to {url}");
    }
    for (body, url) in [(all, "https://shop.example/cancel"), (only_fallback, "https://shop.example/fallback")] {
        let checkout = app.checkout(body).await;
        let token = app.page(&checkout.path).await.form_token();
        let response = app.submit(&format!("{}/cancel", checkout.path), &[("form_token", token)]).await;
        assert!(location(&response).starts_with(&format!("{url}?")), "CANCELLED goes to {url}");
    }
}

async fn return_method_post_sends_a_self_submitting_form_with_a_continue_button(app: TestApp) {
    let checkout = app
        .checkout(json!({"reference": "order-9", "return_url": "https://shop.example/r?a=1", "return_method": "POST"}))
        .await;

    let page = Page::from(app.pay(&checkout, "4242424242424242").await).await;

    assert_eq!(page.status, 200);
    assert!(page.contains("method=\"post\" action=\"https://shop.example/r?a=1\""), "{}", page.html);
    assert!(page.contains("enctype=\"application/x-www-form-urlencoded\""));
    assert!(page.contains(">Continue</button>"));
    let csp = page.header("content-security-policy");
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
    assert!(page.contains(&format!("<script nonce=\"{nonce}\">")), "the script runs by the response's nonce");
    let fields: Vec<(String, String)> =
        ["payment_reference", "payment_status", "merchant_reference", "timestamp", "signature"]
            .iter()
            .map(|name| {
                (
                    (*name).to_owned(),
                    page.input(name)
                        .unwrap_or_else(|| panic!("field {name}"))
                        .replace("&#43;", "+")
                        .replace("&#61;", "=")
                        .replace("&#47;", "/"),
                )
            })
            .collect();
    assert_signed_return(&app, &fields, &checkout.payment_id, "SUCCESS", Some("order-9"));
}

async fn without_a_return_url_the_gateway_shows_its_own_result(app: TestApp) {
    let checkout = app.checkout(json!({})).await;

    let page = Page::from(app.pay(&checkout, "4242424242424242").await).await;

    assert_eq!(page.status, 200);
    assert!(page.contains("Payment successful"));
    assert!(page.contains("You can close this page."));
}

gatepost_testkit::on_both_backends!(
    an_approved_payment_returns_with_303_and_signed_parameters_after_the_merchants_query,
    merchant_reference_is_left_out_when_the_payment_has_none,
    each_outcome_uses_its_url_or_falls_back,
    return_method_post_sends_a_self_submitting_form_with_a_continue_button,
    without_a_return_url_the_gateway_shows_its_own_result,
);
