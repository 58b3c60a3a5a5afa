//! The client against a real gateway, and the recommended integration end to end: pay,
//! verify the return, verify the webhook, confirm with the API.

use crate::support::{Gateway, ScriptedServer};
use gatepost_merchant::{
    ClientError, Customer, DeliveryStatus, DisabledReason, EndpointStatus, EventQuery, EventType, NewPayment,
    NewWebhookEndpoint, PaymentStatus, ReturnVerifier, Webhook, WebhookEndpointUpdate, WebhookEvent,
};
use std::collections::BTreeMap;
use std::time::Duration;

fn order_payment(order: &str) -> NewPayment {
    NewPayment {
        reference: Some(format!("order-{order}")),
        description: Some("2 x coffee beans".into()),
        customer: Some(Customer { email: Some("ana@example.com".into()), name: Some("Ana".into()) }),
        return_url: Some(format!("https://shop.example/orders/{order}/return?lang=de")),
        metadata: BTreeMap::from([("cart".to_owned(), "c_81".to_owned())]),
        ..NewPayment::new(1050, "EUR")
    }
}

#[tokio::test]
async fn creating_twice_with_the_same_idempotency_key_returns_the_same_payment() {
    let gateway = Gateway::start().await;
    let client = gateway.client();

    let first = client.create_payment(&order_payment("1"), Some("order-1")).await.unwrap();
    let second = client.create_payment(&order_payment("1"), Some("order-1")).await.unwrap();

    assert_eq!(second.id, first.id);
    assert_eq!(second, first);
}

#[tokio::test]
async fn creating_without_a_key_makes_a_new_payment_each_time() {
    let gateway = Gateway::start().await;
    let client = gateway.client();

    let first = client.create_payment(&NewPayment::new(500, "JPY"), None).await.unwrap();
    let second = client.create_payment(&NewPayment::new(500, "JPY"), None).await.unwrap();

    assert_ne!(first.id, second.id);
}

#[tokio::test]
async fn reusing_a_key_for_another_body_is_a_typed_error() {
    let gateway = Gateway::start().await;
    let client = gateway.client();
    client.create_payment(&order_payment("1"), Some("order-1")).await.unwrap();

    let error = client.create_payment(&order_payment("2"), Some("order-1")).await.unwrap_err();

    let ClientError::Api(problem) = error else { panic!("{error:?}") };
    assert_eq!((problem.status, problem.code.as_str()), (422, "idempotency_key_reused"));
}

#[tokio::test]
async fn a_retrieved_payment_has_every_field_the_merchant_sent() {
    let gateway = Gateway::start().await;
    let client = gateway.client();
    let created = client.create_payment(&order_payment("7"), None).await.unwrap();

    let payment = client.retrieve_payment(&created.id).await.unwrap();

    assert!(payment.id.starts_with("pay_"));
    assert_eq!(payment.status, PaymentStatus::Open);
    assert_eq!((payment.amount, payment.currency.as_str()), (1050, "EUR"));
    assert_eq!(payment.reference.as_deref(), Some("order-7"));
    assert_eq!(payment.description.as_deref(), Some("2 x coffee beans"));
    assert_eq!(payment.customer.as_ref().and_then(|c| c.name.as_deref()), Some("Ana"));
    assert_eq!(payment.metadata["cart"], "c_81");
    assert_eq!(payment.return_url.as_deref(), Some("https://shop.example/orders/7/return?lang=de"));
    assert_eq!((payment.max_attempts, payment.attempts_remaining), (3, 3));
    assert!(payment.checkout_url.starts_with(&format!("{}/pay/", gateway.base_url)));
    assert!(payment.created_at.ends_with('Z') && !payment.expires_at.is_empty());
    assert!(!payment.livemode);
}

#[tokio::test]
async fn an_unknown_payment_is_a_typed_not_found_error() {
    let gateway = Gateway::start().await;

    let error = gateway.client().retrieve_payment("pay_01JD3Q8V5W7Z2X4Y6A8B0C1D2E").await.unwrap_err();

    let ClientError::Api(problem) = error else { panic!("{error:?}") };
    assert_eq!((problem.status, problem.code.as_str(), problem.kind.as_str()), (404, "not_found", "/errors/not_found"));
}

#[tokio::test]
async fn a_wrong_api_key_is_a_typed_unauthorized_error() {
    let gateway = Gateway::start().await;
    let client = gatepost_merchant::Client::new(&gateway.base_url, "sk_test_wrong").unwrap();

    let error = client.create_payment(&NewPayment::new(100, "EUR"), None).await.unwrap_err();

    assert!(matches!(&error, ClientError::Api(problem) if problem.code == "unauthorized"), "{error:?}");
}

#[tokio::test]
async fn an_invalid_payment_is_a_validation_error_naming_each_field() {
    let gateway = Gateway::start().await;

    let error = gateway.client().create_payment(&NewPayment::new(0, "XYZ"), None).await.unwrap_err();

    let ClientError::Api(problem) = error else { panic!("{error:?}") };
    assert_eq!((problem.status, problem.code.as_str()), (422, "validation_failed"));
    let mut params: Vec<&str> = problem.errors.iter().map(|e| e.param.as_str()).collect();
    params.sort_unstable();
    assert_eq!(params, ["amount", "currency"]);
}

#[tokio::test]
async fn a_paid_payment_is_seen_alike_by_the_return_the_webhook_and_the_api() {
    let gateway = Gateway::start().await;
    let endpoint = ScriptedServer::start([]).await;
    let client = gateway.client();
    let payment =
        NewPayment { webhook_url: Some(format!("{}/webhooks/gatepost", endpoint.url)), ..order_payment("42") };
    let created = client.create_payment(&payment, Some("order-42")).await.unwrap();

    // The shopper pays and the browser is sent back to the shop.
    let location = gateway.pay(&created.checkout_url, "4242424242424242").await;

    // The return page: genuine, recent, and about this order.
    let returned = ReturnVerifier::new(&gateway.webhook_secret)
        .unwrap()
        .with_max_age(Duration::from_secs(60))
        .verify_query(&location)
        .unwrap();
    assert!(location.starts_with("https://shop.example/orders/42/return?lang=de&"), "{location}");
    assert_eq!(returned.payment_id, created.id);
    assert_eq!(returned.status, PaymentStatus::Success);
    assert_eq!(returned.merchant_reference.as_deref(), Some("order-42"));

    // The webhook: verified from the raw body and the headers as they arrived.
    let delivery = endpoint.wait_for(1).await.remove(0);
    assert_eq!((delivery.method.as_str(), delivery.path_and_query.as_str()), ("POST", "/webhooks/gatepost"));
    let event = Webhook::new(&gateway.webhook_secret).unwrap().verify(&delivery.headers, &delivery.body).unwrap();
    assert_eq!(event.id, delivery.header("webhook-id"));
    assert_eq!(event.event_type, EventType::Succeeded);
    assert_eq!(event.data.id, created.id);
    assert_eq!(event.data.status, PaymentStatus::Success);
    assert_eq!(event.data.attempts[0].card.as_ref().unwrap().last4, "4242");
    let other_merchant = Webhook::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    assert!(other_merchant.verify(&delivery.headers, &delivery.body).is_err());

    // The API confirms it.
    let confirmed = client.retrieve_payment(&returned.payment_id).await.unwrap();
    assert_eq!(confirmed.status, PaymentStatus::Success);
    assert_eq!(confirmed.amount_captured, 1050);

    // And the events API lists what was sent, and that it was delivered.
    let query = EventQuery { payment_id: Some(created.id.clone()), ..EventQuery::default() };
    let events = client.list_events(&query).await.unwrap();
    let listed = events.data.iter().find(|e| e.id == event.id).expect("the delivered event is listed");
    assert_eq!((listed.event_type.clone(), listed.sequence), (EventType::Succeeded, Some(event.sequence)));
    assert_eq!(listed.data.payment(), Some(&event.data));
    assert_eq!(listed.delivery.as_ref().unwrap().status, DeliveryStatus::Delivered);
}

#[tokio::test]
async fn events_can_be_filtered_by_type_and_paged_through() {
    let gateway = Gateway::start().await;
    let client = gateway.client();
    let mut cancelled = Vec::new();
    for order in ["1", "2", "3"] {
        let payment = client.create_payment(&order_payment(order), None).await.unwrap();
        gateway.cancel(&payment.id).await;
        cancelled.push(payment.id);
    }

    let mut seen = Vec::new();
    let mut query = EventQuery { event_type: Some(EventType::Cancelled), limit: Some(2), ..EventQuery::default() };
    loop {
        let page = client.list_events(&query).await.unwrap();
        assert!(page.data.len() <= 2);
        seen.extend(page.data.iter().map(|e| (e.payment_id.clone().unwrap(), e.event_type.clone())));
        match page.data.last() {
            Some(last) if page.has_more => query.starting_after = Some(last.id.clone()),
            _ => break,
        }
    }

    cancelled.reverse(); // newest first
    let expected: Vec<_> = cancelled.into_iter().map(|id| (id, EventType::Cancelled)).collect();
    assert_eq!(seen, expected);
    let none = client
        .list_events(&EventQuery { event_type: Some(EventType::Succeeded), ..EventQuery::default() })
        .await
        .unwrap();
    assert!(none.data.is_empty() && !none.has_more);
}

#[tokio::test]
async fn webhook_endpoints_are_managed_and_verified_with_their_own_secrets() {
    let gateway = Gateway::start().await;
    let client = gateway.client();
    let receiver = ScriptedServer::start([]).await;

    let new = NewWebhookEndpoint::new(&format!("{}/hooks/ops", receiver.url))
        .with_events(["payment.cancelled", "webhook_endpoint.disabled"])
        .with_description("ops");
    let created = client.create_webhook_endpoint(&new).await.unwrap();
    let secret = created.secret.clone().expect("the secret is in the answer to the creation");
    assert!(!format!("{created:?}").contains(&secret), "Debug hides the secret");
    assert_eq!(created.status, EndpointStatus::Enabled);
    assert_eq!(created.enabled_events, ["payment.cancelled", "webhook_endpoint.disabled"]);
    let listed = client.list_webhook_endpoints().await.unwrap();
    assert_eq!(listed.data.len(), 1);
    assert_eq!(listed.data[0].secret, None, "shown once");
    assert_eq!(client.retrieve_webhook_endpoint(&created.id).await.unwrap().description.as_deref(), Some("ops"));

    // A test event and a payment event arrive, each verified with the endpoint's secret.
    let tested = client.test_webhook_endpoint(&created.id).await.unwrap();
    assert_eq!(tested.event_type, EventType::EndpointTest);
    assert_eq!(tested.payment_id, None);
    let payment = client.create_payment(&order_payment("7"), None).await.unwrap();
    gateway.cancel(&payment.id).await;
    let received = receiver.wait_for(2).await;
    let webhook = Webhook::new(&secret).unwrap();
    let mut kinds = Vec::new();
    for delivery in &received {
        match webhook.verify_any(&delivery.headers, &delivery.body).unwrap() {
            WebhookEvent::Endpoint(event) => kinds.push((event.event_type.clone(), event.data.id.clone())),
            WebhookEvent::Payment(event) => kinds.push((event.event_type.clone(), event.data.id.clone())),
            other => panic!("{other:?}"),
        }
    }
    kinds.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    assert_eq!(kinds, [(EventType::Cancelled, payment.id.clone()), (EventType::EndpointTest, created.id.clone())]);
    assert!(
        Webhook::new(&gateway.webhook_secret).unwrap().verify_any(&received[0].headers, &received[0].body).is_err()
    );

    // Disable, enable, recover, rotate, delete.
    let disable = WebhookEndpointUpdate { status: Some(EndpointStatus::Disabled), ..Default::default() };
    let disabled = client.update_webhook_endpoint(&created.id, &disable).await.unwrap();
    assert_eq!(disabled.disabled_reason, Some(DisabledReason::Manual));
    let refused = client.recover_webhook_endpoint(&created.id, "2026-01-01T00:00:00Z").await.unwrap_err();
    assert!(matches!(refused, ClientError::Api(problem) if problem.status == 409));
    let enable = WebhookEndpointUpdate { status: Some(EndpointStatus::Enabled), ..Default::default() };
    client.update_webhook_endpoint(&created.id, &enable).await.unwrap();
    let recovery = client.recover_webhook_endpoint(&created.id, "2026-01-01T00:00:00Z").await.unwrap();
    assert_eq!(recovery.events, 0, "everything was delivered");
    let rotated = client.rotate_webhook_endpoint_secret(&created.id).await.unwrap();
    assert!(rotated.secret.starts_with("whsec_") && rotated.secret != secret);
    client.delete_webhook_endpoint(&created.id).await.unwrap();
    let gone = client.retrieve_webhook_endpoint(&created.id).await.unwrap_err();
    assert!(matches!(gone, ClientError::Api(problem) if problem.code == "not_found"));
    assert!(matches!(client.retrieve_webhook_endpoint("..").await, Err(ClientError::InvalidId(_))));

    // The events API lists the endpoint event beside the payment's, with its destinations.
    let events = client.list_events(&EventQuery::default()).await.unwrap();
    let test = events.data.iter().find(|e| e.event_type == EventType::EndpointTest).unwrap();
    assert_eq!(test.destinations.len(), 1);
    assert_eq!(test.destinations[0].endpoint_id.as_deref(), Some(created.id.as_str()));
    assert!(test.data.payment().is_none());
}
