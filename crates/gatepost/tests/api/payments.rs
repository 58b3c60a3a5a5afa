//! Creating, reading, listing and cancelling payments (docs/reference/payments.md).

use gatepost_testkit::{TestApp, problem};
use serde_json::{Value, json};

fn full_payment() -> Value {
    json!({
        "amount": 1050,
        "currency": "EUR",
        "reference": "order-1234",
        "description": "2 x coffee beans",
        "customer": {"email": "ana@example.com", "name": "Ana"},
        "capture": "manual",
        "return_url": "https://shop.example/checkout/return?a=1#frag",
        "return_urls": {"success": "https://shop.example/ok", "decline": "https://shop.example/no"},
        "return_method": "POST",
        "webhook_url": "https://shop.example/webhooks/gatepost",
        "max_attempts": 5,
        "expires_in": 7200,
        "metadata": {"cart": "c_81"}
    })
}

async fn creating_a_payment_answers_201_with_the_payment_object(app: TestApp) {
    let payment = app.create_payment(&full_payment()).await;

    let id = payment["id"].as_str().unwrap();
    assert!(id.starts_with("pay_"));
    assert_eq!(payment["object"], "payment");
    assert_eq!(payment["status"], "OPEN");
    assert_eq!(payment["amount"], 1050);
    assert_eq!(payment["currency"], "EUR");
    assert_eq!(payment["amount_captured"], 0);
    assert_eq!(payment["amount_refunded"], 0);
    assert_eq!(payment["reference"], "order-1234");
    assert_eq!(payment["description"], "2 x coffee beans");
    assert_eq!(payment["customer"], json!({"email": "ana@example.com", "name": "Ana"}));
    assert_eq!(payment["metadata"], json!({"cart": "c_81"}));
    assert_eq!(payment["capture"], "manual");
    assert_eq!(payment["max_attempts"], 5);
    assert_eq!(payment["attempts_remaining"], 5);
    assert_eq!(payment["return_url"], "https://shop.example/checkout/return?a=1#frag");
    assert_eq!(
        payment["return_urls"],
        json!({"success": "https://shop.example/ok", "decline": "https://shop.example/no"})
    );
    assert_eq!(payment["return_method"], "POST");
    assert_eq!(payment["webhook_url"], "https://shop.example/webhooks/gatepost");
    assert_eq!(payment["attempts"], json!([]));
    assert_eq!(payment["refunds"], json!([]));
    assert_eq!(payment["livemode"], false);
    let created = payment["created_at"].as_str().unwrap();
    assert_eq!(created.len(), "2026-11-21T10:00:00.123Z".len(), "RFC 3339 with milliseconds: {created}");
    assert!(created.ends_with('Z'));
    assert_eq!(payment["updated_at"], payment["created_at"]);
    assert!(payment["expires_at"].as_str().unwrap() > created);

    let checkout_url = payment["checkout_url"].as_str().unwrap();
    let token = checkout_url.strip_prefix(&format!("{}/pay/", app.base_url)).expect("checkout under /pay/");
    assert!(token.len() >= 22, "at least 128 bits of base64: {token}");
    assert!(!checkout_url.contains(id), "the checkout URL does not reveal the payment id");
}

async fn only_amount_and_currency_are_required(app: TestApp) {
    let payment = app.create_payment(&json!({"amount": 500, "currency": "JPY"})).await;

    assert_eq!(payment["capture"], "automatic");
    assert_eq!(payment["max_attempts"], 3);
    assert_eq!(payment["return_method"], "GET");
    assert_eq!(payment["reference"], Value::Null);
    assert_eq!(payment["return_url"], Value::Null);
    assert_eq!(payment["metadata"], json!({}));
}

async fn a_payment_reads_back_as_it_was_created(app: TestApp) {
    let created = app.create_payment(&full_payment()).await;

    let response = app.get(&format!("/v1/payments/{}", created["id"].as_str().unwrap())).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), created);
}

async fn another_merchants_payment_is_not_found(app: TestApp) {
    let payment = app.create_payment(&full_payment()).await;
    let path = format!("/v1/payments/{}", payment["id"].as_str().unwrap());
    let intruder = app.create_merchant("Other Shop").await;

    let (status, body) = problem(app.get_as(&intruder.api_key, &path).await).await;
    assert_eq!((status, body["code"].as_str().unwrap()), (404, "not_found"));
    let cancel = app.post_as(&intruder.api_key, &format!("{path}/cancel"), "", None).await;
    assert_eq!(problem(cancel).await.0, 404);
    let listed = app.http.get(app.url("/v1/payments")).bearer_auth(&intruder.api_key).send().await.unwrap();
    assert_eq!(listed.json::<Value>().await.unwrap()["data"], json!([]));

    let still_open = app.get(&path).await.json::<Value>().await.unwrap();
    assert_eq!(still_open["status"], "OPEN", "the intruder changed nothing");
}

async fn unknown_payment_ids_are_not_found(app: TestApp) {
    for path in ["/v1/payments/pay_doesnotexist", "/v1/payments/evt_123", "/v1/payments/%20"] {
        let (status, body) = problem(app.get(path).await).await;
        assert_eq!((status, body["code"].as_str().unwrap()), (404, "not_found"), "{path}");
    }
}

async fn lists_are_newest_first_and_paginate_with_a_cursor(app: TestApp) {
    let mut ids = Vec::new();
    for n in 0..5 {
        let payment = app.create_payment(&json!({"amount": 100 + n, "currency": "EUR"})).await;
        ids.push(payment["id"].as_str().unwrap().to_owned());
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    ids.reverse();

    let mut seen = Vec::new();
    let mut query = "?limit=2".to_owned();
    loop {
        let page = app.list_payments(&query).await;
        assert_eq!(page["object"], "list");
        let data = page["data"].as_array().unwrap();
        assert!(data.len() <= 2);
        seen.extend(data.iter().map(|p| p["id"].as_str().unwrap().to_owned()));
        if page["has_more"] == false {
            break;
        }
        query = format!("?limit=2&starting_after={}", seen.last().unwrap());
    }

    assert_eq!(seen, ids);
    assert_eq!(app.list_payments("").await["data"].as_array().unwrap().len(), 5, "default limit 20");
}

async fn lists_filter_by_status_and_reference(app: TestApp) {
    let keep = app.create_payment(&json!({"amount": 100, "currency": "EUR", "reference": "order-7"})).await;
    app.create_payment(&json!({"amount": 100, "currency": "EUR", "reference": "order-8"})).await;
    let cancelled = app.create_payment(&json!({"amount": 100, "currency": "EUR", "reference": "order-7"})).await;
    let id = cancelled["id"].as_str().unwrap();
    assert_eq!(app.post_raw(&format!("/v1/payments/{id}/cancel"), "").await.status(), 200);

    let by_reference = app.list_payments("?reference=order-7").await;
    assert_eq!(by_reference["data"].as_array().unwrap().len(), 2);
    let open_order_7 = app.list_payments("?reference=order-7&status=OPEN").await;
    let data = open_order_7["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["id"], keep["id"]);
    assert_eq!(app.list_payments("?status=CANCELLED").await["data"][0]["id"], cancelled["id"]);
}

async fn list_parameters_out_of_range_are_validation_errors(app: TestApp) {
    for (query, param) in [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=ten", "limit"),
        ("?status=PAID", "status"),
        ("?starting_after=evt_1", "starting_after"),
    ] {
        let (status, body) = problem(app.get(&format!("/v1/payments{query}")).await).await;
        assert_eq!(status, 422, "{query}");
        assert_eq!(body["errors"][0]["param"], param, "{query}");
    }
}

async fn cancelling_an_open_payment_cancels_it_once(app: TestApp) {
    let payment = app.create_payment(&json!({"amount": 100, "currency": "EUR"})).await;
    let path = format!("/v1/payments/{}/cancel", payment["id"].as_str().unwrap());

    let response = app.post_raw(&path, "").await;
    assert_eq!(response.status(), 200);
    let cancelled: Value = response.json().await.unwrap();
    assert_eq!(cancelled["status"], "CANCELLED");
    assert!(cancelled["updated_at"].as_str().unwrap() >= payment["updated_at"].as_str().unwrap());

    let (status, body) = problem(app.post_raw(&path, "").await).await;
    assert_eq!((status, body["code"].as_str().unwrap()), (409, "invalid_state"));
}

async fn cancelling_writes_exactly_one_event_in_the_same_transaction(app: TestApp) {
    let payment = app.create_payment(&json!({"amount": 100, "currency": "EUR"})).await;
    let id = payment["id"].as_str().unwrap();
    let path = format!("/v1/payments/{id}/cancel");

    let racers = (0..8).map(|_| app.post_raw(&path, ""));
    let statuses: Vec<u16> = futures::future::join_all(racers).await.iter().map(|r| r.status().as_u16()).collect();

    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 7, "{statuses:?}");
    let payment_id = gatepost_core::ids::PaymentId::parse(id).unwrap();
    let merchant = gatepost_core::ids::MerchantId::parse(&app.merchant.id).unwrap();
    let stored = app.store.payment(&merchant, &payment_id).await.unwrap().unwrap();
    assert_eq!(stored.event_sequence, 1, "one move, one event");
}

gatepost_testkit::on_both_backends!(
    creating_a_payment_answers_201_with_the_payment_object,
    only_amount_and_currency_are_required,
    a_payment_reads_back_as_it_was_created,
    another_merchants_payment_is_not_found,
    unknown_payment_ids_are_not_found,
    lists_are_newest_first_and_paginate_with_a_cursor,
    lists_filter_by_status_and_reference,
    list_parameters_out_of_range_are_validation_errors,
    cancelling_an_open_payment_cancels_it_once,
    cancelling_writes_exactly_one_event_in_the_same_transaction,
);
