//! API keys, payment links and settings in the dashboard
//! (docs/reference/dashboard.md#developers, docs/reference/dashboard.md#payment-links,
//! docs/reference/dashboard.md#settings).

use super::{Dashboard, see_other, session_cookie, user};
use crate::checkout::{HostedPage as _, card_form};
use gatepost_testkit::TestApp;
use std::time::{Duration, Instant};

fn shown(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\" readonly value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no #{id} in:\n{html}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

async fn an_api_key_made_in_the_dashboard_works_until_it_is_revoked(app: TestApp) {
    let dashboard = Dashboard::admin(&app).await;
    let page = dashboard.page("/dashboard/developers").await;
    assert!(page.contains(&app.merchant.id));
    let key = page.input("idempotency_key").unwrap();
    let created = dashboard
        .post("/dashboard/developers/keys", &[("description", "backend <b>".into()), ("idempotency_key", key.clone())])
        .await;
    assert_eq!(created.status(), 200);
    let html = created.text().await.unwrap();
    let api_key = shown(&html, "new-key");
    assert!(api_key.starts_with("sk_test_"));
    let again = dashboard
        .post("/dashboard/developers/keys", &[("description", "backend <b>".into()), ("idempotency_key", key)])
        .await;
    assert_eq!(see_other(&again), "/dashboard/developers", "a second send makes no second key");
    let listed = dashboard.page("/dashboard/developers").await;
    assert!(!listed.contains(&api_key), "shown once");
    assert!(listed.contains(&format!("{}…", &api_key[..12])), "listed by its prefix");
    assert!(listed.contains("backend &#60;b&#62;"));
    assert_eq!(
        listed.html.matches("<span class=\"status good\">active</span>").count(),
        2,
        "the first key and this one"
    );

    assert_eq!(app.get_as(&api_key, "/v1/payments").await.status(), 200);
    let id_at = html.find("<code>key_").unwrap() + "<code>".len();
    let id = &html[id_at..id_at + html[id_at..].find('<').unwrap()];
    let form_key = listed.html.split("value=\"").find_map(|rest| {
        let value = &rest[..rest.find('"')?];
        value.ends_with(&format!("-{id}")).then(|| value.to_owned())
    });
    let revoked = dashboard
        .post(
            &format!("/dashboard/developers/keys/{id}/revoke"),
            &[("confirm", "yes".into()), ("idempotency_key", form_key.unwrap())],
        )
        .await;
    assert_eq!(see_other(&revoked), "/dashboard/developers");
    let start = Instant::now();
    while app.get_as(&api_key, "/v1/payments").await.status() != 401 {
        assert!(start.elapsed() < Duration::from_millis(1500), "refused within a second");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.get("/v1/payments").await.status(), 200, "the other key still works");
    let viewer = Dashboard::sign_in(&app, &user(&app, &app.merchant.id, "view@shop.example", "viewer").await).await;
    let refused = viewer.post("/dashboard/developers/keys", &[("idempotency_key", "k1".into())]).await;
    assert_eq!(refused.status(), 403);
    assert!(!viewer.page("/dashboard/developers").await.contains("Create key"));
}

async fn a_payment_link_is_made_paid_and_seen(app: TestApp) {
    let dashboard = Dashboard::admin(&app).await;
    let page = dashboard.page("/dashboard/links").await;
    let key = page.input("idempotency_key").unwrap();
    let form = |amount: &str, days: &str| {
        vec![
            ("amount", amount.to_owned()),
            ("currency", "EUR".to_owned()),
            ("days", days.to_owned()),
            ("description", "Invoice <2026-117>".to_owned()),
            ("reference", "invoice-117".to_owned()),
            ("return_url", String::new()),
            ("idempotency_key", key.clone()),
        ]
    };
    for (amount, days) in [("49,00x", "7"), ("49.00", "31"), ("0", "7"), ("49.001", "7")] {
        assert_eq!(dashboard.post("/dashboard/links", &form(amount, days)).await.status(), 422, "{amount} {days}");
    }
    let created = dashboard.post("/dashboard/links", &form("49.00", "7")).await;
    let location = see_other(&created);
    let id = location.strip_prefix("/dashboard/links/").unwrap().to_owned();
    let link = dashboard.page(&location).await;
    assert!(link.contains("<svg role=\"img\" aria-label=\"QR code of the payment link\""), "{}", link.html);
    let url = shown(&link.html, "link-url");
    assert!(url.starts_with(&format!("{}/pay/", app.base_url)), "{url}");
    let payment = app.payment_json(&id).await;
    assert_eq!((payment["amount"].as_i64(), payment["description"].as_str()), (Some(4900), Some("Invoice <2026-117>")));
    let expires = gatepost_core::time::Timestamp::parse_rfc3339(payment["expires_at"].as_str().unwrap()).unwrap();
    let created_at = gatepost_core::time::Timestamp::parse_rfc3339(payment["created_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires.since(created_at), Duration::from_secs(7 * 24 * 3600));
    assert!(dashboard.page("/dashboard/links").await.contains(&id), "listed while open");

    let path = url.strip_prefix(&app.base_url).unwrap();
    let token = app.page(path).await.form_token();
    app.submit(path, &card_form(&token, "4242424242424242")).await;
    let paid = dashboard.page(&format!("/dashboard/payments/{id}")).await;
    assert!(paid.contains("<span class=\"status good\">SUCCESS</span>"), "{}", paid.html);
    assert!(!dashboard.page("/dashboard/links").await.contains(&id), "no longer open");
}

async fn admins_change_settings_and_the_team_and_everything_is_audited(app: TestApp) {
    let dashboard = Dashboard::admin(&app).await;
    let page = dashboard.page("/dashboard/settings").await;
    let key = page.input("idempotency_key").unwrap().strip_suffix("-settings").unwrap().to_owned();
    let settings = |url: &str, k: &str| {
        vec![
            ("default_webhook_url", url.to_owned()),
            ("webhook_ack_mode", "echo".to_owned()),
            ("allowed_return_hosts", "Shop.example\nwww.shop.example".to_owned()),
            ("connector", "sandbox".to_owned()),
            ("idempotency_key", k.to_owned()),
        ]
    };
    let bad =
        dashboard.post("/dashboard/settings", &settings("ftp://hooks.example/", &format!("{key}-settings"))).await;
    assert_eq!(bad.status(), 422);
    let saved =
        dashboard.post("/dashboard/settings", &settings("https://hooks.example/in", &format!("{key}-settings"))).await;
    assert_eq!(see_other(&saved), "/dashboard/settings?done=saved");
    let merchant: serde_json::Value = app.get("/v1/merchant").await.json().await.unwrap();
    assert_eq!(merchant["default_webhook_url"], "https://hooks.example/in");
    assert_eq!(merchant["webhook_ack_mode"], "echo");
    assert_eq!(merchant["allowed_return_hosts"], serde_json::json!(["shop.example", "www.shop.example"]));

    let invited = dashboard
        .post(
            "/dashboard/settings/users",
            &[
                ("email", "Bo@Shop.example".into()),
                ("role", "viewer".into()),
                ("idempotency_key", format!("{key}-invite")),
            ],
        )
        .await;
    assert_eq!(invited.status(), 200);
    let link = shown(&invited.text().await.unwrap(), "invite-link");
    let signed_in = app.http.get(&link).send().await.unwrap();
    assert_eq!(signed_in.status(), 200);
    let bo_cookie = session_cookie(&signed_in).unwrap();
    let bo = Dashboard { app: &app, cookie: bo_cookie, csrf: String::new() };
    assert_eq!(bo.page("/dashboard").await.status, 200);
    let taken = dashboard
        .post(
            "/dashboard/settings/users",
            &[("email", "bo@shop.example".into()), ("role", "admin".into()), ("idempotency_key", "k-again".into())],
        )
        .await;
    assert_eq!(taken.status(), 422);

    let team = dashboard.page("/dashboard/settings").await;
    let bo_id = app.store.users(&gatepost_core::ids::MerchantId::parse(&app.merchant.id).unwrap()).await.unwrap();
    let bo_id = bo_id.iter().find(|u| u.email.as_str() == "bo@shop.example").unwrap().id.to_string();
    let remove_key = team.input("idempotency_key").unwrap().strip_suffix("-settings").unwrap().to_owned();
    let removed = dashboard
        .post(
            &format!("/dashboard/settings/users/{bo_id}/remove"),
            &[("confirm", "yes".into()), ("idempotency_key", format!("{remove_key}-{bo_id}"))],
        )
        .await;
    assert_eq!(see_other(&removed), "/dashboard/settings?done=removed");
    let ended = app
        .http
        .get(app.url("/dashboard"))
        .header("cookie", format!("gatepost_session={}", bo.cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(see_other(&ended), "/dashboard/login", "a removed user's session ends");
    let me = app.store.users(&gatepost_core::ids::MerchantId::parse(&app.merchant.id).unwrap()).await.unwrap();
    let me = me[0].id.to_string();
    let myself = dashboard
        .post(
            &format!("/dashboard/settings/users/{me}/remove"),
            &[("confirm", "yes".into()), ("idempotency_key", "k-me".into())],
        )
        .await;
    assert_eq!(myself.status(), 409);

    let audit = dashboard.page("/dashboard/settings").await;
    for action in ["settings_updated", "user_invited", "user_removed", "sign_in"] {
        assert!(audit.contains(action), "{action} in:\n{}", audit.html);
    }
    assert!(audit.contains("admin@shop.example"), "who");
}

async fn another_merchants_user_cannot_be_removed_nor_signed_out(app: TestApp) {
    let other = app.create_merchant("Other Shop").await;
    let theirs = user(&app, &other.id, "theirs@other.example", "admin").await;
    let their_session = Dashboard::sign_in(&app, &theirs).await;
    let dashboard = Dashboard::admin(&app).await;
    let removed = dashboard
        .post(
            &format!("/dashboard/settings/users/{}/remove", theirs.id),
            &[("confirm", "yes".into()), ("idempotency_key", "k1".into())],
        )
        .await;
    assert_eq!(removed.status(), 404);
    assert_eq!(their_session.page("/dashboard").await.status, 200, "their session is untouched");
    let merchant = gatepost_core::ids::MerchantId::parse(&other.id).unwrap();
    assert_eq!(app.store.users(&merchant).await.unwrap().len(), 1);
}

gatepost_testkit::on_both_backends!(
    another_merchants_user_cannot_be_removed_nor_signed_out,
    an_api_key_made_in_the_dashboard_works_until_it_is_revoked,
    a_payment_link_is_made_paid_and_seen,
    admins_change_settings_and_the_team_and_everything_is_audited,
);
