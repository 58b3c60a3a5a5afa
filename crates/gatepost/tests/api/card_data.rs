//! Card numbers and CVCs never reach the database or the logs, nor do the hosted page's
//! tokens and the merchant's secrets reach the logs (docs/reference/limits.md#secrets-in-answers-and-logs).

use crate::checkout::{Page, card_form};
use crate::cli::{create_merchant, serve_with};
use gatepost_testkit::{Backend, TestDatabase};

const NUMBERS: [&str; 3] = ["4242424242424242", "4000000000000002", "4000000000003220"];
const CVC: &str = "987";

#[tokio::test]
async fn card_numbers_and_cvcs_are_neither_stored_nor_logged() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::new(Backend::Sqlite).await;
    let database_path = database.url.strip_prefix("sqlite://").unwrap().to_owned();
    let log_path = dir.path().join("gatepost.log");
    let merchant = create_merchant(&database.url).await;
    let key = merchant["api_key"].as_str().unwrap();
    let log = std::fs::File::create(&log_path).unwrap();
    // The most talkative level there is, JSON included, so nothing is filtered out.
    let server = serve_with(&database.url, &[("GATEPOST_LOG", "trace"), ("GATEPOST_LOG_FORMAT", "json")], log).await;
    let http = gatepost_testkit::http();

    let mut tokens = Vec::new();
    for number in NUMBERS {
        let body = r#"{"amount":1050,"currency":"EUR","return_url":"https://shop.example/r"}"#;
        let payment: serde_json::Value = server.post(key, "/v1/payments", body).await.json().await.unwrap();
        let url = payment["checkout_url"].as_str().unwrap();
        tokens.push(url.rsplit('/').next().unwrap().to_owned());
        let page = Page::from(http.get(url).send().await.unwrap()).await;
        let mut fields = card_form(&page.form_token(), &spaced(number));
        fields.retain(|(name, _)| *name != "card_cvc");
        fields.push(("card_cvc", CVC.to_owned()));
        let response = http.post(url).form(&fields).send().await.unwrap();
        assert!(response.status().is_success() || response.status().is_redirection());
    }
    drop(server);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    let mut stored = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(bytes) = std::fs::read(format!("{database_path}{suffix}")) {
            stored.extend(bytes);
        }
    }
    let stored = String::from_utf8_lossy(&stored);
    let logged = std::fs::read_to_string(&log_path).unwrap();
    assert!(logged.contains("/pay/"), "the log did record the requests");
    assert!(stored.contains("4242"), "the database did record the last 4");
    for number in NUMBERS {
        assert!(!stored.contains(number) && !stored.contains(&spaced(number)), "{number} in the database");
        assert!(!logged.contains(number) && !logged.contains(&spaced(number)), "{number} in the log");
    }
    assert!(!logged.contains(&format!("card_cvc={CVC}")) && !logged.contains(&format!("\"{CVC}\"")), "CVC in the log");
    for token in tokens {
        assert!(!logged.contains(&token), "the checkout token {token} is a secret, and in the log");
    }
    for secret in [key, merchant["webhook_secret"].as_str().unwrap()] {
        assert!(!logged.contains(secret), "a merchant secret in the log");
    }
}

/// A number as shoppers type it: in groups of four.
fn spaced(number: &str) -> String {
    number.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join(" ")
}
