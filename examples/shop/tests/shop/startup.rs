//! Starting the shop: a configuration mistake is one line on stderr and exit code 2.

use std::process::Command;

#[test]
fn a_missing_api_key_stops_the_shop_with_one_line_naming_it() {
    let output = Command::new(env!("CARGO_BIN_EXE_shop"))
        .env_remove("GATEPOST_API_KEY")
        .env("GATEPOST_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .env("SHOP_LISTEN", "127.0.0.1:0")
        .output()
        .expect("the shop runs");

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("shop: GATEPOST_API_KEY is not set"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_webhook_secret_that_is_not_one_stops_the_shop() {
    let output = Command::new(env!("CARGO_BIN_EXE_shop"))
        .env("GATEPOST_API_KEY", "sk_test_123")
        .env("GATEPOST_WEBHOOK_SECRET", "sk_test_123")
        .env("SHOP_LISTEN", "127.0.0.1:0")
        .output()
        .expect("the shop runs");

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("shop: GATEPOST_WEBHOOK_SECRET is wrong"), "{stderr}");
    assert!(!stderr.contains("sk_test_123"), "secrets stay out of messages: {stderr}");
}
