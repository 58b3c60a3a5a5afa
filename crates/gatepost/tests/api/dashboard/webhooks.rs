//! Events and webhook endpoints in the dashboard (docs/reference/dashboard.md#events,
//! docs/reference/dashboard.md#webhooks): what a developer debugging an integration needs,
//! against real receivers.

use super::{Dashboard, see_other, user};
use crate::checkout::HostedPage as _;
use crate::webhooks::{events_of, quick_app, wait_for_delivery_status};
use gatepost_testkit::receiver::{Receiver, Reply, python_verifies};
use gatepost_testkit::{Backend, TestApp};
use serde_json::json;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

/// The value a page shows in its read-only input `id`.
fn shown(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\" readonly value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no #{id} in:\n{html}")) + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Creates an endpoint with the dashboard's form; its id and the secret shown once.
async fn create_endpoint(dashboard: &Dashboard<'_>, url: &str, events: &[&str]) -> (String, String) {
    let page = dashboard.page("/dashboard/webhooks").await;
    let key = page.input("idempotency_key").unwrap();
    let mut form = vec![
        ("url", url.to_owned()),
        ("description", "orders <svc>".to_owned()),
        ("ack_mode", "status".to_owned()),
        ("idempotency_key", key),
    ];
    form.extend(events.iter().map(|e| ("enabled_events", (*e).to_owned())));
    let response = dashboard.post("/dashboard/webhooks", &form).await;
    assert_eq!(response.status(), 200, "the new endpoint's page, with its secret");
    let html = response.text().await.unwrap();
    let secret = shown(&html, "secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let id_at = html.find("<code>we_").expect("the endpoint id") + "<code>".len();
    let id = html[id_at..id_at + html[id_at..].find('<').unwrap()].to_owned();
    let again = dashboard.page(&format!("/dashboard/webhooks/{id}")).await;
    assert!(!again.contains(&secret), "the secret is shown once");
    assert!(again.contains("orders &#60;svc&#62;"), "{}", again.html);
    (id, secret)
}

async fn an_endpoint_made_in_the_dashboard_gets_its_test_event(backend: Backend) {
    let app = quick_app(backend, &[100]).await;
    let receiver = Receiver::start().await;
    let dashboard = Dashboard::admin(&app).await;
    let (id, secret) =
        create_endpoint(&dashboard, &receiver.url, &["payment.succeeded", "webhook_endpoint.test"]).await;

    let page = dashboard.page(&format!("/dashboard/webhooks/{id}")).await;
    let key = page.input("idempotency_key").unwrap().strip_suffix("-edit").expect("the edit form first").to_owned();
    let test =
        dashboard.post(&format!("/dashboard/webhooks/{id}/test"), &[("idempotency_key", format!("{key}-test"))]).await;
    assert_eq!(see_other(&test), format!("/dashboard/webhooks/{id}?done=tested"));
    let received = receiver.wait_for(1, WAIT).await;
    assert_eq!(received[0].json()["type"], "webhook_endpoint.test");
    assert!(python_verifies(&secret, &received[0]), "verifies with the secret shown once");

    let rotated = dashboard
        .post(
            &format!("/dashboard/webhooks/{id}/rotate"),
            &[("confirm", "yes".into()), ("idempotency_key", format!("{key}-rotate"))],
        )
        .await;
    assert_eq!(rotated.status(), 200);
    let new_secret = shown(&rotated.text().await.unwrap(), "secret");
    assert_ne!(new_secret, secret);

    let health = dashboard.page("/dashboard/webhooks").await;
    assert!(health.contains("100.0 % of 1 attempts"), "{}", health.html);
    let disabled = dashboard
        .post(
            &format!("/dashboard/webhooks/{id}/status"),
            &[("status", "disabled".into()), ("idempotency_key", format!("{key}-status"))],
        )
        .await;
    assert_eq!(see_other(&disabled), format!("/dashboard/webhooks/{id}?done=disabled"));
    let endpoint: serde_json::Value = app.get(&format!("/v1/webhook_endpoints/{id}")).await.json().await.unwrap();
    assert_eq!((endpoint["status"].as_str(), endpoint["disabled_reason"].as_str()), (Some("disabled"), Some("manual")));
    let recover = dashboard
        .post(
            &format!("/dashboard/webhooks/{id}/recover"),
            &[("since", "2026-01-01".into()), ("idempotency_key", "r1".into())],
        )
        .await;
    assert_eq!(recover.status(), 409, "a disabled endpoint is enabled before it recovers");
    let removed = dashboard
        .post(
            &format!("/dashboard/webhooks/{id}/remove"),
            &[("confirm", "yes".into()), ("idempotency_key", format!("{key}-remove"))],
        )
        .await;
    assert_eq!(see_other(&removed), "/dashboard/webhooks?done=removed");
    assert_eq!(app.get(&format!("/v1/webhook_endpoints/{id}")).await.status(), 404);
    let audit = dashboard.page("/dashboard/settings").await;
    for action in ["endpoint_created", "endpoint_tested", "endpoint_secret_rotated", "endpoint_deleted"] {
        assert!(audit.contains(action), "{action} in the audit log");
    }
}

async fn a_failed_event_is_resent_from_its_page_once_the_receiver_is_up(backend: Backend) {
    let app = quick_app(backend, &[50]).await;
    let receiver = Receiver::start().await;
    receiver.queue([Reply::Body(500, b"<script>alert('down')</script>".to_vec()), Reply::Status(503, vec![])]);
    let checkout = app.checkout(json!({"webhook_url": receiver.url})).await;
    app.pay(&checkout, "4242424242424242").await;
    let event = events_of(&app, &checkout.payment_id).await[0]["id"].as_str().unwrap().to_owned();
    wait_for_delivery_status(&app, &event, "FAILED").await;

    let dashboard = Dashboard::admin(&app).await;
    let failed = dashboard.page("/dashboard/events?delivery_status=FAILED").await;
    assert!(failed.contains(&event), "{}", failed.html);
    assert!(!dashboard.page("/dashboard/events?delivery_status=DELIVERED").await.contains(&event));
    let page = dashboard.page(&format!("/dashboard/events/{event}")).await;
    assert!(
        page.contains("&#60;script&#62;alert(&#39;down&#39;)"),
        "a receiver's body is shown as text:\n{}",
        page.html
    );
    assert!(!page.contains("<script>alert"));
    assert!(page.contains("&#34;type&#34;:&#34;payment.succeeded&#34;"), "the exact body:\n{}", page.html);
    assert_eq!(page.html.matches("Duration</dt>").count(), 2, "both attempts");

    let key = page.input("idempotency_key").unwrap();
    let resent = dashboard
        .post(
            &format!("/dashboard/events/{event}/resend"),
            &[("endpoint_id", String::new()), ("idempotency_key", key.clone())],
        )
        .await;
    assert_eq!(see_other(&resent), format!("/dashboard/events/{event}?done=resend"));
    let twice = dashboard
        .post(&format!("/dashboard/events/{event}/resend"), &[("endpoint_id", String::new()), ("idempotency_key", key)])
        .await;
    assert_eq!(see_other(&twice), format!("/dashboard/events/{event}?done=resend"));
    wait_for_delivery_status(&app, &event, "DELIVERED").await;
    assert_eq!(receiver.received().len(), 3, "two failures and one resend, not two");
    let after = dashboard.page(&format!("/dashboard/events/{event}")).await;
    assert_eq!(after.html.matches("Duration</dt>").count(), 3);
    assert!(after.contains("(manual)"), "{}", after.html);
}

async fn other_merchants_events_and_endpoints_are_not_found(app: TestApp) {
    let other = app.create_merchant("Other Shop").await;
    let created = app
        .post_as(
            &other.api_key,
            "/v1/webhook_endpoints",
            json!({"url": "https://other.example/hook"}).to_string(),
            None,
        )
        .await;
    let endpoint: serde_json::Value = created.json().await.unwrap();
    let endpoint = endpoint["id"].as_str().unwrap();
    let payment = app.post_as(&other.api_key, "/v1/payments", r#"{"amount":500,"currency":"EUR"}"#, None).await;
    let payment: serde_json::Value = payment.json().await.unwrap();
    let cancelled = app
        .post_as(&other.api_key, &format!("/v1/payments/{}/cancel", payment["id"].as_str().unwrap()), "", None)
        .await;
    assert_eq!(cancelled.status(), 200);
    let events: serde_json::Value = app.get_as(&other.api_key, "/v1/events").await.json().await.unwrap();
    let event = events["data"][0]["id"].as_str().unwrap();

    let dashboard = Dashboard::admin(&app).await;
    assert_eq!(dashboard.page(&format!("/dashboard/events/{event}")).await.status, 404);
    assert_eq!(dashboard.page(&format!("/dashboard/webhooks/{endpoint}")).await.status, 404);
    assert!(!dashboard.page("/dashboard/events").await.contains(event));
    let resend =
        dashboard.post(&format!("/dashboard/events/{event}/resend"), &[("idempotency_key", "k1".into())]).await;
    assert_eq!(resend.status(), 404);
    for action in ["status", "test", "rotate", "remove", "recover"] {
        let response = dashboard
            .post(
                &format!("/dashboard/webhooks/{endpoint}/{action}"),
                &[
                    ("status", "disabled".into()),
                    ("confirm", "yes".into()),
                    ("since", "2026-01-01".into()),
                    ("idempotency_key", format!("k-{action}")),
                ],
            )
            .await;
        assert_eq!(response.status(), 404, "{action}");
    }
    let theirs: serde_json::Value =
        app.get_as(&other.api_key, &format!("/v1/webhook_endpoints/{endpoint}")).await.json().await.unwrap();
    assert_eq!(theirs["status"], "enabled");
    let viewer = user(&app, &app.merchant.id, "view@shop.example", "viewer").await;
    let viewer = Dashboard::sign_in(&app, &viewer).await;
    let refused = viewer
        .post("/dashboard/webhooks", &[("url", "https://x.example/".into()), ("idempotency_key", "k2".into())])
        .await;
    assert_eq!(refused.status(), 403);
    for bad in
        ["/dashboard/events?type=nope", "/dashboard/events?delivery_status=LOST", "/dashboard/events?endpoint=zzz"]
    {
        assert_eq!(dashboard.page(bad).await.status, 422, "{bad}");
    }
    let invalid = dashboard
        .post(
            "/dashboard/webhooks",
            &[
                ("url", "ftp://x.example/".into()),
                ("enabled_events", "payment.nope".into()),
                ("idempotency_key", "k3".into()),
            ],
        )
        .await;
    assert_eq!(invalid.status(), 422);
    let text = invalid.text().await.unwrap();
    assert!(text.contains("url:") && text.contains("enabled_events:"), "{text}");
}

gatepost_testkit::for_each_backend!(
    an_endpoint_made_in_the_dashboard_gets_its_test_event,
    a_failed_event_is_resent_from_its_page_once_the_receiver_is_up,
);

mod isolation {
    use super::*;
    gatepost_testkit::on_both_backends!(other_merchants_events_and_endpoints_are_not_found);
}
