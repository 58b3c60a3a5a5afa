//! `--fail-requests`: failed requests reach the connector as `Unavailable` and have no effect.

mod support;

use gatepost_connectors::ConnectorError;
use gatepost_core::payment::CaptureMode;
use std::time::Duration;
use support::*;

#[tokio::test]
async fn failed_requests_are_unavailable_and_authorize_nothing() {
    let mut test = spawn_sim(|options| {
        options.fail_requests = 1.0;
        options.seed = Some(1);
    })
    .await;
    // Some failures hold the request until the client gives up: keep giving up quick.
    test.connector = connector(&format!("http://{}", test.sim.addr), SECRET, Duration::from_millis(300));
    for _ in 0..2 {
        let (_, answer) = authorize(&test.connector, ASYNC_APPROVED, CaptureMode::Automatic).await;
        let error = answer.unwrap_err();
        assert!(matches!(error, ConnectorError::Unavailable(_)), "{error}");
    }
    // An authorization made behind a failure would have been called back by now.
    assert!(test.receiver.settle_down().await.is_empty());
    test.sim.shutdown().await;
}
