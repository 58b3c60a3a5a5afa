//! The dashboard's pages (docs/reference/dashboard.md#pages): what they show, their filters
//! and export, escaping, headers, and other merchants' ids.

use super::Dashboard;
use crate::checkout::HostedPage as _;
use gatepost_testkit::TestApp;
use serde_json::json;

const HOSTILE: &str = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>";

async fn payment(app: &TestApp, reference: &str, amount: i64) -> String {
    let created = app.create_payment(&json!({"amount": amount, "currency": "EUR", "reference": reference})).await;
    created["id"].as_str().unwrap().to_owned()
}

async fn every_page_has_the_security_headers_and_escapes_what_others_wrote(app: TestApp) {
    let checkout = app
        .checkout(json!({
            "reference": HOSTILE,
            "description": HOSTILE,
            "metadata": {"note": HOSTILE},
            "customer": {"name": HOSTILE, "email": "ana@shop.example"},
        }))
        .await;
    app.pay(&checkout, "4000000000000002").await;
    let dashboard = Dashboard::admin(&app).await;
    for path in ["/dashboard", "/dashboard/payments", &format!("/dashboard/payments/{}", checkout.payment_id)] {
        let page = dashboard.page(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(page.header("content-security-policy").contains("script-src 'nonce-"), "{path}");
        assert!(page.header("content-security-policy").contains("frame-ancestors 'none'"), "{path}");
        assert_eq!(page.header("cache-control"), "no-store", "{path}");
        assert_eq!(page.header("referrer-policy"), "no-referrer", "{path}");
        assert!(!page.contains("<script>alert") && !page.contains("<img src=x"), "{path} escapes:\n{}", page.html);
    }
    let detail = dashboard.page(&format!("/dashboard/payments/{}", checkout.payment_id)).await;
    assert!(detail.contains("&#60;script&#62;alert(1)"), "shown as text:\n{}", detail.html);
    assert!(detail.contains("Attempt 1 DECLINED") && detail.contains("card_declined"), "{}", detail.html);
    assert!(detail.contains("Event payment.failed") || detail.contains("Event payment"), "{}", detail.html);
}

async fn the_list_filters_by_status_reference_search_and_date(app: TestApp) {
    let first = payment(&app, "order-1", 1000).await;
    let second = payment(&app, "order-2", 2000).await;
    assert_eq!(app.post_raw(&format!("/v1/payments/{second}/cancel"), "").await.status(), 200);
    let dashboard = Dashboard::admin(&app).await;
    let rows = |page: &crate::checkout::Page| page.html.matches("<tr>").count() - 1;

    let all = dashboard.page("/dashboard/payments").await;
    assert_eq!(rows(&all), 2);
    assert!(all.html.find(&second).unwrap() < all.html.find(&first).unwrap(), "newest first");
    let cancelled = dashboard.page("/dashboard/payments?status=CANCELLED").await;
    assert_eq!((rows(&cancelled), cancelled.contains(&second)), (1, true));
    let by_reference = dashboard.page("/dashboard/payments?reference=order-1").await;
    assert_eq!((rows(&by_reference), by_reference.contains(&first)), (1, true));
    let searched = dashboard.page("/dashboard/payments?q=order-2").await;
    assert_eq!((rows(&searched), searched.contains(&second)), (1, true));
    let by_id = dashboard.app.http.get(app.url(&format!("/dashboard/payments?q={first}")));
    let by_id = by_id.header("cookie", format!("gatepost_session={}", dashboard.cookie)).send().await.unwrap();
    assert_eq!(super::see_other(&by_id), format!("/dashboard/payments/{first}"));

    let today = gatepost_core::time::Timestamp::from_millis(chrono_now_millis()).to_rfc3339()[..10].to_owned();
    let dated = dashboard.page(&format!("/dashboard/payments?from={today}&to={today}")).await;
    assert_eq!(rows(&dated), 2);
    let past = dashboard.page("/dashboard/payments?to=2020-01-01").await;
    assert!(past.contains("No payments match."));
    for bad in ["status=PAID", "from=yesterday", "starting_after=%00", "q=%01"] {
        let page = dashboard.page(&format!("/dashboard/payments?{bad}")).await;
        assert_eq!(page.status, 422, "{bad}: {}", page.html);
        assert!(page.contains("role=\"alert\""), "{bad}");
    }
}

fn chrono_now_millis() -> i64 {
    i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

async fn the_csv_export_has_every_row_the_filters_match(app: TestApp) {
    for n in 0..7 {
        payment(&app, &format!("csv-{n}"), 100 + n).await;
    }
    payment(&app, "=HYPERLINK(\"http://evil.example\")", 999).await;
    let dashboard = Dashboard::admin(&app).await;
    let response = dashboard.app.http.get(app.url("/dashboard/payments?status=OPEN&format=csv"));
    let response = response.header("cookie", format!("gatepost_session={}", dashboard.cookie)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,status,amount,currency"), "{csv}");
    assert_eq!(lines.len(), 9, "a header and 8 payments:\n{csv}");
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""), "a formula is defused:\n{csv}");
    let filtered = dashboard.app.http.get(app.url("/dashboard/payments?reference=csv-3&format=csv"));
    let filtered = filtered.header("cookie", format!("gatepost_session={}", dashboard.cookie)).send().await.unwrap();
    let filtered = filtered.text().await.unwrap();
    assert_eq!(filtered.lines().count(), 2, "{filtered}");
    assert!(filtered.contains("\"csv-3\""));
}

async fn another_merchants_payment_is_not_found(app: TestApp) {
    let other = app.create_merchant("Other Shop").await;
    let created = app
        .post_as(
            &other.api_key,
            "/v1/payments",
            json!({"amount": 500, "currency": "EUR", "reference": "theirs"}).to_string(),
            None,
        )
        .await;
    let theirs: serde_json::Value = created.json().await.unwrap();
    let theirs = theirs["id"].as_str().unwrap();
    let dashboard = Dashboard::admin(&app).await;
    let page = dashboard.page(&format!("/dashboard/payments/{theirs}")).await;
    assert_eq!(page.status, 404);
    assert!(page.header("content-type").starts_with("text/html"));
    assert!(!dashboard.page("/dashboard/payments").await.contains(theirs));
    assert!(!dashboard.page("/dashboard/payments?reference=theirs").await.contains(theirs));
    for bad in [
        "/dashboard/payments/not-an-id",
        "/dashboard/payments/pay_%00",
        "/dashboard/nowhere",
        "/dashboard/payments/x/y/z",
    ] {
        let page = dashboard.page(bad).await;
        assert_eq!(page.status, 404, "{bad}");
        assert!(page.header("content-type").starts_with("text/html"), "{bad}");
        assert!(page.header("content-security-policy").contains("nonce-"), "{bad}");
    }
}

async fn an_oversized_or_malformed_form_gets_a_page_and_changes_nothing(app: TestApp) {
    let dashboard = Dashboard::admin(&app).await;
    let huge = "x".repeat(100 * 1024);
    let response = dashboard.post("/dashboard/logout", &[("filler", huge)]).await;
    assert_eq!(response.status(), 413);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let garbage = dashboard.app.http.post(app.url("/dashboard/logout"));
    let garbage =
        garbage.header("cookie", format!("gatepost_session={}", dashboard.cookie)).body(vec![0xff, 0xfe, 0x00, b'%']);
    assert_eq!(garbage.send().await.unwrap().status(), 403, "no csrf_token in it");
    assert_eq!(dashboard.page("/dashboard").await.status, 200, "still signed in");
    let put = dashboard.app.http.put(app.url("/dashboard/payments")).send().await.unwrap();
    assert_eq!(put.status(), 405);
    assert!(put.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
}

async fn the_overview_counts_payments_and_webhooks(app: TestApp) {
    let paid = app.checkout(json!({"amount": 1050})).await;
    app.pay(&paid, "4242424242424242").await;
    let declined = app.checkout(json!({"amount": 700, "max_attempts": 1})).await;
    app.pay(&declined, "4000000000000002").await;
    payment(&app, "open", 300).await;
    let dashboard = Dashboard::admin(&app).await;
    let page = dashboard.page("/dashboard").await;
    assert_eq!(page.status, 200);
    let figure = |heading: &str| {
        let at = page.html.find(&format!("<h2>{heading}</h2>")).unwrap();
        let rest = &page.html[at..];
        let start = rest.find("<p class=\"figure\">").unwrap() + "<p class=\"figure\">".len();
        rest[start..start + rest[start..].find('<').unwrap()].to_owned()
    };
    assert_eq!(figure("Payments"), "3");
    assert_eq!(figure("Conversion"), "50.0 %", "{}", page.html);
    assert!(page.contains("<svg role=\"img\""));
    assert!(page.contains("<td>EUR</td><td class=\"num\">1</td><td class=\"num\">10.50 EUR</td>"), "{}", page.html);
    assert_eq!(dashboard.page("/dashboard?window=7d").await.status, 200);
}

async fn the_search_finds_a_customers_address_and_a_cards_last_four(app: TestApp) {
    let ana = app.checkout(json!({"customer": {"email": "Ana@Shop.example", "name": "Ana"}})).await;
    app.pay(&ana, "5555555555554444").await;
    let bo = app.checkout(json!({"customer": {"email": "bo@shop.example"}})).await;
    app.pay(&bo, "4242424242424242").await;
    let dashboard = Dashboard::admin(&app).await;
    let rows = |page: &crate::checkout::Page| page.html.matches("<tr>").count() - 1;
    for (q, expected) in [("ana@shop.example", &ana), ("ANA@SHOP.EXAMPLE", &ana), ("4444", &ana), ("4242", &bo)] {
        let page = dashboard.page(&format!("/dashboard/payments?q={}", q.replace('@', "%40"))).await;
        assert_eq!(page.status, 200, "{q}");
        assert_eq!(rows(&page), 1, "{q}: {}", page.html);
        assert!(page.contains(&expected.payment_id), "{q}");
    }
    assert!(dashboard.page("/dashboard/payments?q=1111").await.contains("No payments match."));
    assert!(dashboard.page("/dashboard/payments?q=nobody%40shop.example").await.contains("No payments match."));
}

gatepost_testkit::on_both_backends!(
    the_search_finds_a_customers_address_and_a_cards_last_four,
    every_page_has_the_security_headers_and_escapes_what_others_wrote,
    the_list_filters_by_status_reference_search_and_date,
    the_csv_export_has_every_row_the_filters_match,
    another_merchants_payment_is_not_found,
    an_oversized_or_malformed_form_gets_a_page_and_changes_nothing,
    the_overview_counts_payments_and_webhooks,
);
