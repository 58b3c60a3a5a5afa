//! The `gatepost` command line (docs/reference/configuration.md#commands), run as a
//! separate process.

use gatepost_testkit::{Backend, TestDatabase};
use serde_json::Value;
use std::process::Output;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

pub const BINARY: &str = env!("CARGO_BIN_EXE_gatepost");

/// `gatepost ARGS` with a clean `GATEPOST_*` environment plus `env`.
pub fn gatepost(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BINARY);
    command.args(args).env("GATEPOST_LOG", "warn").kill_on_drop(true);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("GATEPOST_")) {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

pub async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    gatepost(args, env).output().await.expect("gatepost runs")
}

/// `merchant create --json` against `database_url`: the printed object.
pub async fn create_merchant(database_url: &str) -> Value {
    let output = run(&["merchant", "create", "--name", "CLI Shop", "--json", "--database", database_url], &[]).await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

/// A `gatepost serve` process on a free port, and its base URL.
pub struct ServeProcess {
    pub child: Child,
    pub base_url: String,
}

impl ServeProcess {
    /// `POST path` with a JSON `body`, as the merchant whose key is `key`.
    pub async fn post(&self, key: &str, path: &str, body: &str) -> reqwest::Response {
        let http = gatepost_testkit::http();
        http.post(format!("{}{path}", self.base_url)).bearer_auth(key).body(body.to_owned()).send().await.unwrap()
    }

    /// `GET path` as the merchant whose key is `key`: the answer's JSON.
    pub async fn get_json(&self, key: &str, path: &str) -> Value {
        let http = gatepost_testkit::http();
        http.get(format!("{}{path}", self.base_url)).bearer_auth(key).send().await.unwrap().json().await.unwrap()
    }
}

pub async fn serve(database_url: &str) -> ServeProcess {
    serve_with(database_url, &[], std::process::Stdio::null()).await
}

/// `serve` with extra environment and somewhere for its log (stderr) to go.
pub async fn serve_with(database_url: &str, env: &[(&str, &str)], log: impl Into<std::process::Stdio>) -> ServeProcess {
    let mut child = gatepost(&["serve", "--listen", "127.0.0.1:0", "--database", database_url], env)
        .stdout(std::process::Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .expect("serve prints its address")
        .unwrap()
        .expect("a first line");
    let base_url = first
        .split_whitespace()
        .find(|word| word.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {first:?}"))
        .to_owned();
    // Keep draining stdout so the process never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    ServeProcess { child, base_url }
}

#[tokio::test]
async fn merchant_create_json_prints_exactly_the_spec_object() {
    let database = TestDatabase::new(Backend::Sqlite).await;

    let merchant = create_merchant(&database.url).await;

    let object = merchant.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["api_key", "id", "name", "webhook_secret"]);
    assert!(merchant["id"].as_str().unwrap().starts_with("mer_"));
    assert_eq!(merchant["name"], "CLI Shop");
    assert!(merchant["api_key"].as_str().unwrap().starts_with("sk_test_"));
    assert!(merchant["webhook_secret"].as_str().unwrap().starts_with("whsec_"));
}

#[tokio::test]
async fn merchant_list_shows_merchants_without_secrets() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let merchant = create_merchant(&database.url).await;

    let output = run(&["merchant", "list", "--json", "--database", &database.url], &[]).await;

    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list[0]["id"], merchant["id"]);
    assert!(!text.contains(merchant["api_key"].as_str().unwrap()));
    assert!(!text.contains(merchant["webhook_secret"].as_str().unwrap()));
}

#[tokio::test]
async fn a_bad_configuration_value_stops_start_up_with_one_line_and_exit_code_2() {
    for (name, value) in [
        ("GATEPOST_LISTEN", "nowhere"),
        ("GATEPOST_MODE", "production"),
        ("GATEPOST_WEBHOOKS__RETRY_SCHEDULE", "1s,soon"),
        ("GATEPOST_DATABASE_URL", "mysql://db"),
    ] {
        let output = run(&["serve"], &[(name, value)]).await;

        assert_eq!(output.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(&format!("gatepost: {name}: ")), "{stderr}");
    }
}

#[tokio::test]
async fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["merchant", "--help"],
        &["merchant", "create", "--help"],
        &["merchant", "list", "--help"],
        &["migrate", "--help"],
    ] {
        let output = run(args, &[]).await;
        assert!(output.status.success(), "{args:?}");
        assert!(String::from_utf8(output.stdout).unwrap().contains("Usage:"), "{args:?}");
    }
}

#[tokio::test]
async fn migrate_applies_the_schema_and_exits() {
    let database = TestDatabase::new(Backend::Sqlite).await;

    let output = run(&["migrate", "--database", &database.url], &[]).await;

    assert!(output.status.success());
    assert!(String::from_utf8(output.stdout).unwrap().starts_with("migrations applied"));
}

async fn a_key_created_by_the_cli_works_on_the_running_server_at_once(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let server = serve(&database.url).await;

    let merchant = create_merchant(&database.url).await;
    let response = gatepost_testkit::http()
        .post(format!("{}/v1/payments", server.base_url))
        .bearer_auth(merchant["api_key"].as_str().unwrap())
        .body(r#"{"amount":1050,"currency":"EUR"}"#)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn sqlite_cli_key_works_at_once() {
    a_key_created_by_the_cli_works_on_the_running_server_at_once(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_cli_key_works_at_once() {
    a_key_created_by_the_cli_works_on_the_running_server_at_once(Backend::Postgres).await;
}
