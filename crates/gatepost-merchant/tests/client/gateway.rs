//! The client against a real gateway, and the recommended integration end to end: pay,
//! verify the return, verify the webhook, confirm with the API.

use crate::support::{Gateway, ScriptedServer};
use gatepost_merchant::{
    ClientError, Customer, DeliveryStatus, EventQuery, EventType, NewPayment, PaymentStatus, ReturnVerifier, Webhook,
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
    assert_eq!((listed.event_type.clone(), listed.sequence), (EventType::Succeeded, event.sequence));
    assert_eq!(listed.data, event.data);
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
        seen.extend(page.data.iter().map(|e| (e.payment_id.clone(), e.event_type.clone())));
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
