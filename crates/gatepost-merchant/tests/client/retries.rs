//! What the client retries, and what it never does: against servers that fail on cue.

use crate::support::{Reply, ScriptedServer, dropping_server, quick_retries, silent_server};
use gatepost_merchant::{Client, ClientError, EventQuery, EventType, NewPayment, RetryPolicy};
use std::time::Duration;

const PAYMENT: &str = r#"{"id":"pay_1","object":"payment","status":"OPEN","amount":1050,"currency":"EUR"}"#;

#[tokio::test]
async fn a_create_that_meets_two_503s_is_retried_under_the_same_idempotency_key() {
    let server = ScriptedServer::start([
        Reply::text(503, "down for a moment"),
        Reply::problem(503, "internal"),
        Reply::json(201, PAYMENT),
    ])
    .await;

    let payment = server.client().create_payment(&NewPayment::new(1050, "EUR"), None).await.unwrap();

    assert_eq!(payment.id, "pay_1");
    let requests = server.received();
    assert_eq!(requests.len(), 3);
    let key = requests[0].header("idempotency-key");
    assert!(key.len() >= 32, "a random key was generated: {key:?}");
    for request in &requests {
        assert_eq!(request.header("idempotency-key"), key);
        assert_eq!((request.method.as_str(), request.path_and_query.as_str()), ("POST", "/v1/payments"));
        assert_eq!(request.header("authorization"), "Bearer sk_test_scripted");
        assert_eq!(request.header("content-type"), "application/json");
        assert_eq!(request.body, br#"{"amount":1050,"currency":"EUR"}"#);
    }
}

#[tokio::test]
async fn each_call_without_a_key_gets_a_key_of_its_own() {
    let server = ScriptedServer::start([]).await;
    server.always(Reply::json(201, PAYMENT));
    let client = server.client();

    client.create_payment(&NewPayment::new(1050, "EUR"), None).await.unwrap();
    client.create_payment(&NewPayment::new(1050, "EUR"), None).await.unwrap();

    let requests = server.received();
    assert_ne!(requests[0].header("idempotency-key"), requests[1].header("idempotency-key"));
}

#[tokio::test]
async fn an_explicit_key_is_sent_as_given_on_every_try() {
    let server = ScriptedServer::start([Reply::text(502, "bad gateway"), Reply::json(201, PAYMENT)]).await;

    server.client().create_payment(&NewPayment::new(1050, "EUR"), Some("Order-1234")).await.unwrap();

    let keys: Vec<String> = server.received().iter().map(|r| r.header("idempotency-key").to_owned()).collect();
    assert_eq!(keys, ["Order-1234", "Order-1234"]);
}

#[tokio::test]
async fn a_4xx_answer_is_never_retried() {
    for reply in [
        Reply::problem(400, "invalid_json"),
        Reply::problem(401, "unauthorized"),
        Reply::problem(404, "not_found"),
        Reply::problem(409, "invalid_state"),
        Reply::problem(422, "validation_failed"),
        Reply::text(418, "teapot"),
    ] {
        let status = reply.status;
        let server = ScriptedServer::start([reply]).await;
        server.always(Reply::json(201, PAYMENT));

        let error = server.client().create_payment(&NewPayment::new(1050, "EUR"), None).await.unwrap_err();

        assert_eq!(server.received().len(), 1, "{status} was retried");
        match error {
            ClientError::Api(problem) => assert_eq!(problem.status, status),
            ClientError::UnexpectedResponse { status: got, .. } => assert_eq!(got, status),
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_429_is_retried_after_the_delay_it_asks_for() {
    let server = ScriptedServer::start([
        Reply::problem(429, "rate_limited").with_header("retry-after", "0"),
        Reply::json(200, PAYMENT),
    ])
    .await;

    let payment = server.client().retrieve_payment("pay_1").await.unwrap();

    assert_eq!(payment.id, "pay_1");
    assert_eq!(server.received().len(), 2);
}

#[tokio::test]
async fn a_conflict_because_the_first_try_is_still_running_is_retried() {
    let server =
        ScriptedServer::start([Reply::problem(409, "idempotency_key_in_use"), Reply::json(201, PAYMENT)]).await;

    server.client().create_payment(&NewPayment::new(1050, "EUR"), Some("order-1")).await.unwrap();

    assert_eq!(server.received().len(), 2);
}

#[tokio::test]
async fn retries_stop_after_the_policy_allows_and_report_the_last_answer() {
    let server = ScriptedServer::start([]).await;
    server.always(Reply::text(503, "still down"));
    let client = Client::new(&server.url, "sk_test_scripted")
        .unwrap()
        .with_retry_policy(RetryPolicy { max_retries: 2, ..quick_retries() });

    let error = client.retrieve_payment("pay_1").await.unwrap_err();

    assert_eq!(server.received().len(), 3);
    let ClientError::UnexpectedResponse { status, detail } = error else { panic!("{error:?}") };
    assert_eq!(status, 503);
    assert!(detail.contains("still down"), "{detail}");
}

#[tokio::test]
async fn with_no_retries_a_5xx_is_returned_at_once() {
    let server = ScriptedServer::start([Reply::problem(500, "internal"), Reply::json(200, PAYMENT)]).await;
    let client = server.client().with_retry_policy(RetryPolicy::none());

    let error = client.retrieve_payment("pay_1").await.unwrap_err();

    assert!(matches!(&error, ClientError::Api(problem) if problem.code == "internal"), "{error:?}");
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_connection_dropped_before_the_answer_is_retried_under_the_same_key() {
    let (url, keys) = dropping_server(2, Reply::json(201, PAYMENT)).await;
    let client = Client::new(&url, "sk_test_scripted").unwrap().with_retry_policy(quick_retries());

    let payment = client.create_payment(&NewPayment::new(1050, "EUR"), None).await.unwrap();

    assert_eq!(payment.id, "pay_1");
    let keys = keys.lock().unwrap().clone();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(!keys[0].is_empty() && keys.iter().all(|k| *k == keys[0]), "{keys:?}");
}

#[tokio::test]
async fn an_unreachable_gateway_is_a_network_error_after_the_retries() {
    // A port that was free a moment ago: nothing listens on it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = Client::new(&url, "sk_test_scripted").unwrap().with_retry_policy(quick_retries());

    let error = client.retrieve_payment("pay_1").await.unwrap_err();

    assert!(matches!(error, ClientError::Network(_)), "{error:?}");
}

#[tokio::test]
async fn a_success_whose_body_is_not_the_object_is_reported_not_retried() {
    let server = ScriptedServer::start([Reply::text(200, "<html>maintenance</html>")]).await;

    let error = server.client().retrieve_payment("pay_1").await.unwrap_err();

    assert!(matches!(error, ClientError::UnexpectedResponse { status: 200, .. }), "{error:?}");
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn an_answer_that_never_comes_times_out_and_is_retried() {
    let (url, requests) = silent_server().await;
    let client = Client::new(&url, "sk_test_scripted")
        .unwrap()
        .with_timeout(Duration::from_millis(200))
        .with_retry_policy(RetryPolicy { max_retries: 1, ..quick_retries() });

    let error = client.retrieve_payment("pay_1").await.unwrap_err();

    assert!(matches!(&error, ClientError::Network(e) if e.is_timeout()), "{error:?}");
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn ids_and_filters_are_encoded_into_the_url() {
    let server = ScriptedServer::start([]).await;
    server.always(Reply::json(200, r#"{"object":"list","data":[],"has_more":false}"#));
    let client = server.client();

    client
        .list_events(&EventQuery {
            payment_id: Some("pay_1".into()),
            event_type: Some(EventType::AttemptFailed),
            limit: Some(5),
            starting_after: Some("evt_9".into()),
        })
        .await
        .unwrap();
    client.list_events(&EventQuery::default()).await.unwrap();
    let error = client.retrieve_payment("..").await.unwrap_err();

    let paths: Vec<String> = server.received().iter().map(|r| r.path_and_query.clone()).collect();
    assert_eq!(
        paths,
        ["/v1/events?payment_id=pay_1&type=payment.attempt_failed&limit=5&starting_after=evt_9", "/v1/events"]
    );
    assert!(matches!(error, ClientError::InvalidId(_)), "{error:?}");
}
