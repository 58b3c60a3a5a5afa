//! The hosted payment page, row by row of docs/reference/hosted-page.md#pages, over plain HTTP.

use crate::checkout::HostedPage as _;
use crate::checkout::{Page, card_form, location, query_pairs};
use gatepost_testkit::TestApp;
use serde_json::json;

async fn the_page_shows_the_payment_and_a_form_with_strict_headers(app: TestApp) {
    let checkout =
        app.checkout(json!({"description": "2 x coffee beans", "reference": "order-1234", "max_attempts": 4})).await;

    let page = app.page(&checkout.path).await;

    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));
    assert_eq!(page.header("cache-control"), "no-store");
    assert_eq!(page.header("referrer-policy"), "no-referrer");
    let csp = page.header("content-security-policy");
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'nonce-"), "{csp}");
    assert!(page.contains("Test Shop"));
    assert!(page.contains("10.50 EUR"));
    assert!(page.contains("2 x coffee beans"));
    assert!(page.contains("Attempts left: 4"));
    assert!(page.contains(&format!("<form method=\"post\" action=\"{}\"", checkout.path)));
    for input in ["card_number", "card_expiry", "card_cvc", "cardholder_name"] {
        assert!(page.contains(&format!("<label for=\"{input}\"")), "label for {input}");
        assert!(page.contains(&format!("name=\"{input}\"")), "input {input}");
    }
    assert!(page.form_token().len() >= 22);
    assert!(page.contains(">Pay</button>"));
    assert!(page.contains(&format!("formaction=\"{}/cancel\"", checkout.path)));
}

async fn amounts_are_shown_with_the_currencys_exponent(app: TestApp) {
    for (amount, currency, shown) in
        [(1050, "JPY", "1,050 JPY"), (1250, "BHD", "1.250 BHD"), (123_456, "EUR", "1,234.56 EUR")]
    {
        let checkout = app.checkout(json!({"amount": amount, "currency": currency})).await;
        assert!(app.page(&checkout.path).await.contains(shown), "{shown}");
    }
}

async fn merchant_text_is_escaped(app: TestApp) {
    let checkout = app
        .checkout(json!({"description": "<script>alert(1)</script>", "reference": "<img src=x onerror=alert(2)>"}))
        .await;

    let page = app.page(&checkout.path).await;

    assert!(!page.contains("<script>alert(1)"));
    assert!(!page.contains("<img src=x"));
    assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;") || page.contains("&lt;script&gt;"));
}

async fn invalid_card_input_is_422_and_uses_no_attempt(app: TestApp) {
    let checkout = app.checkout(json!({})).await;
    let token = app.page(&checkout.path).await.form_token();
    let cases = [
        ("4242 4242 4242 4241", "12/34", "123", "card_number_error"),
        ("4242 4242 4242 4242", "01/20", "123", "card_expiry_error"),
        ("4242 4242 4242 4242", "13/34", "123", "card_expiry_error"),
        ("4242 4242 4242 4242", "12/34", "12", "card_cvc_error"),
        ("3782 822463 10005", "12/34", "123", "card_cvc_error"),
    ];
    for (number, expiry, cvc, error) in cases {
        let fields = [
            ("form_token", token.clone()),
            ("card_number", number.to_owned()),
            ("card_expiry", expiry.to_owned()),
            ("card_cvc", cvc.to_owned()),
        ];
        let page = Page::from(app.submit(&checkout.path, &fields).await).await;
        assert_eq!(page.status, 422, "{number} {expiry} {cvc}");
        assert!(page.contains(&format!("id=\"{error}\"")), "{error} for {number} {expiry} {cvc}");
        assert!(!page.contains(number), "the card number is never echoed");
    }

    let payment = app.payment_json(&checkout.payment_id).await;
    assert_eq!(payment["attempts"], json!([]));
    assert_eq!(payment["attempts_remaining"], 3);
}

async fn a_declined_card_shows_the_form_again_with_the_reason_and_attempts_left(app: TestApp) {
    let checkout = app.checkout(json!({})).await;

    let page = Page::from(app.pay(&checkout, "4000 0000 0000 9995").await).await;

    assert_eq!(page.status, 200);
    assert!(page.contains("insufficient funds"), "{}", page.html);
    assert!(page.contains("Attempts left: 2"));
    let payment = app.payment_json(&checkout.payment_id).await;
    assert_eq!(payment["status"], "OPEN");
    assert_eq!(payment["attempts"][0]["status"], "DECLINED");
    assert_eq!(payment["attempts"][0]["decline_code"], "insufficient_funds");
    assert_eq!(
        payment["attempts"][0]["card"],
        json!({"brand": "visa", "last4": "9995", "exp_month": 12, "exp_year": 2034})
    );
}

async fn every_decline_card_declines_with_its_code(app: TestApp) {
    for (number, code) in [
        ("4000000000000002", "card_declined"),
        ("4000000000009995", "insufficient_funds"),
        ("4000000000000069", "expired_card"),
        ("4000000000000127", "incorrect_cvc"),
    ] {
        let checkout = app.checkout(json!({})).await;
        app.pay(&checkout, number).await;
        let payment = app.payment_json(&checkout.payment_id).await;
        assert_eq!(payment["attempts"][0]["decline_code"], code, "{number}");
    }
}

async fn a_processing_error_uses_an_attempt_and_may_be_retried(app: TestApp) {
    let checkout = app.checkout(json!({"return_url": "https://shop.example/return"})).await;

    let page = Page::from(app.pay(&checkout, "4000000000000119").await).await;
    assert_eq!(page.status, 200);
    assert!(page.contains("Attempts left: 2"));
    let retry = app.pay(&checkout, "4242424242424242").await;

    assert_eq!(retry.status(), 303);
    let payment = app.payment_json(&checkout.payment_id).await;
    assert_eq!(payment["status"], "SUCCESS");
    assert_eq!(payment["attempts"][0]["status"], "ERROR");
    assert_eq!(payment["attempts"][0]["decline_code"], "processing_error");
    assert_eq!(payment["attempts"][1]["status"], "SUCCEEDED");
}

async fn declines_until_none_are_left_show_the_exceeded_page_and_fail_the_payment(app: TestApp) {
    let checkout = app
        .checkout(
            json!({"return_urls": {"decline": "https://shop.example/declined", "success": "https://shop.example/ok"}}),
        )
        .await;

    let mut page = None;
    for _ in 0..3 {
        page = Some(Page::from(app.pay(&checkout, "4000000000000002").await).await);
    }
    let page = page.unwrap();

    assert_eq!(page.status, 200);
    assert!(page.contains("number of attempts was exceeded"), "{}", page.html);
    let link_start = page.html.find("href=\"https://shop.example/declined?").expect("a link back to the decline URL");
    let link = &page.html[link_start + 6..];
    let link = link[..link.find('"').unwrap()].replace("&#38;", "&").replace("&amp;", "&");
    assert!(query_pairs(&link).contains(&("payment_status".to_owned(), "FAILED".to_owned())));
    let payment = app.payment_json(&checkout.payment_id).await;
    assert_eq!(payment["status"], "FAILED");
    assert_eq!(payment["attempts_remaining"], 0);
    assert_eq!(payment["attempts"].as_array().unwrap().len(), 3);
}

async fn a_used_form_token_makes_no_second_attempt(app: TestApp) {
    let checkout = app.checkout(json!({"return_url": "https://shop.example/return"})).await;
    let token = app.page(&checkout.path).await.form_token();

    let first = app.submit(&checkout.path, &card_form(&token, "4000000000000002")).await;
    let again = Page::from(app.submit(&checkout.path, &card_form(&token, "4242424242424242")).await).await;

    assert_eq!(first.status(), 200);
    assert_eq!(again.status, 200, "the current state is shown");
    assert!(again.contains("Attempts left: 2"));
    let payment = app.payment_json(&checkout.payment_id).await;
    assert_eq!(payment["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(payment["status"], "OPEN");
}

async fn concurrent_submits_of_one_form_make_one_attempt(app: TestApp) {
    let checkout = app.checkout(json!({"return_url": "https://shop.example/return"})).await;
    let token = app.page(&checkout.path).await.form_token();
    let fields = card_form(&token, "4242424242424242");

    let submits = (0..8).map(|_| app.submit(&checkout.path, &fields));
    let responses = futures::future::join_all(submits).await;

    let redirected = responses.iter().filter(|r| r.status() == 303).count();
    assert_eq!(redirected, 1, "exactly one submit ran the attempt");
    let payment = app.payment_json(&checkout.payment_id).await;
    assert_eq!(payment["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(payment["status"], "SUCCESS");
    assert_eq!(payment["amount_captured"], 1050);
}

async fn a_finished_payment_shows_its_result_with_a_way_back(app: TestApp) {
    let checkout = app.checkout(json!({"return_url": "https://shop.example/return"})).await;
    app.pay(&checkout, "4242424242424242").await;

    let page = app.page(&checkout.path).await;

    assert_eq!(page.status, 200);
    assert!(page.contains("Payment successful"));
    assert!(page.contains("Return to merchant"));
    assert!(page.input("form_token").is_none(), "no form to pay twice");
}

async fn cancel_on_the_page_cancels_and_returns_to_the_cancel_url(app: TestApp) {
    let checkout = app
        .checkout(json!({"return_url": "https://shop.example/return", "return_urls": {"cancel": "https://shop.example/cancelled"}}))
        .await;
    let token = app.page(&checkout.path).await.form_token();

    let response = app.submit(&format!("{}/cancel", checkout.path), &card_form(&token, "")).await;

    assert_eq!(response.status(), 303);
    let location = location(&response);
    assert!(location.starts_with("https://shop.example/cancelled?"), "{location}");
    assert!(query_pairs(&location).contains(&("payment_status".to_owned(), "CANCELLED".to_owned())));
    assert_eq!(app.payment_json(&checkout.payment_id).await["status"], "CANCELLED");
}

async fn cancel_without_the_form_token_changes_nothing(app: TestApp) {
    let checkout = app.checkout(json!({})).await;

    let response = app.submit(&format!("{}/cancel", checkout.path), &[("form_token", "forged".to_owned())]).await;

    assert_eq!(response.status(), 200, "the page is shown as it is");
    assert_eq!(app.payment_json(&checkout.payment_id).await["status"], "OPEN");
}

async fn an_unknown_token_is_404(app: TestApp) {
    for path in ["/pay/not-a-token", "/pay/not-a-token/3ds"] {
        let page = app.page(path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.contains("Payment not found"));
        assert_eq!(page.header("cache-control"), "no-store");
    }
    let post = app.submit("/pay/not-a-token", &card_form("x", "4242424242424242")).await;
    assert_eq!(post.status(), 404);
}

async fn card_numbers_and_cvcs_are_never_shown_back(app: TestApp) {
    let checkout = app.checkout(json!({})).await;
    let page = Page::from(app.pay(&checkout, "4000000000000002").await).await;
    assert!(!page.contains("4000000000000002"));
    let payment = app.payment_json(&checkout.payment_id).await.to_string();
    assert!(!payment.contains("4000000000000002"));
    assert!(payment.contains("\"last4\":\"0002\""));
}

gatepost_testkit::on_both_backends!(
    the_page_shows_the_payment_and_a_form_with_strict_headers,
    amounts_are_shown_with_the_currencys_exponent,
    merchant_text_is_escaped,
    invalid_card_input_is_422_and_uses_no_attempt,
    a_declined_card_shows_the_form_again_with_the_reason_and_attempts_left,
    every_decline_card_declines_with_its_code,
    a_processing_error_uses_an_attempt_and_may_be_retried,
    declines_until_none_are_left_show_the_exceeded_page_and_fail_the_payment,
    a_used_form_token_makes_no_second_attempt,
    concurrent_submits_of_one_form_make_one_attempt,
    a_finished_payment_shows_its_result_with_a_way_back,
    cancel_on_the_page_cancels_and_returns_to_the_cancel_url,
    cancel_without_the_form_token_changes_nothing,
    an_unknown_token_is_404,
    card_numbers_and_cvcs_are_never_shown_back,
);
