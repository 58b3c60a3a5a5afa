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
        &["user", "create", "--help"],
        &["user", "list", "--help"],
        &["dashboard-link", "--help"],
        &["key", "create", "--help"],
        &["key", "list", "--help"],
        &["key", "revoke", "--help"],
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

/// `gatepost ARGS` with `stdin` written to its standard input.
async fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    use tokio::io::AsyncWriteExt as _;
    let mut child = gatepost(args, &[])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).await.unwrap();
    child.wait_with_output().await.unwrap()
}

/// Users and sign-in links from the command line (docs/reference/dashboard.md#users): a
/// password from stdin signs in on the running server, `--invite` and `dashboard-link`
/// print one-time links, and `merchant create` prints one in sandbox mode.
async fn users_and_links_from_the_command_line(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let url = database.url.as_str();
    let merchant = create_merchant(url).await;
    let id = merchant["id"].as_str().unwrap();
    let server = serve(url).await;
    let http = gatepost_testkit::http();

    let created = run_with_stdin(
        &["user", "create", "--merchant", id, "--email", "Ana@Shop.example", "--role", "admin", "--database", url],
        "correct horse battery\n",
    )
    .await;
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    assert!(String::from_utf8_lossy(&created.stdout).contains("ana@shop.example"));
    let short = run_with_stdin(
        &["user", "create", "--merchant", id, "--email", "bo@shop.example", "--role", "admin", "--database", url],
        "short\n",
    )
    .await;
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));
    for (args, error) in [
        (vec!["--merchant", "mer_nope", "--email", "c@shop.example", "--role", "admin"], "does not exist"),
        (vec!["--merchant", id, "--email", "not-an-address", "--role", "admin"], "not an e-mail address"),
        (vec!["--merchant", id, "--email", "c@shop.example", "--role", "owner"], "admin or viewer"),
        (vec!["--merchant", id, "--email", "ANA@shop.example", "--role", "viewer"], "exists already"),
    ] {
        let mut full = vec!["user", "create", "--invite"];
        full.extend(args);
        full.extend(["--database", url]);
        let output = run(&full, &[]).await;
        assert!(!output.status.success(), "{full:?}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(error),
            "{full:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    let invited = run(
        &[
            "user",
            "create",
            "--merchant",
            id,
            "--email",
            "view@shop.example",
            "--role",
            "viewer",
            "--invite",
            "--database",
            url,
        ],
        &[],
    )
    .await;
    let invited = String::from_utf8(invited.stdout).unwrap();
    let invite_link = invited.split_whitespace().find(|w| w.contains("/dashboard/login/")).expect("an invitation link");
    let listed = run(&["user", "list", "--merchant", id, "--json", "--database", url], &[]).await;
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let emails: Vec<&str> = listed.as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    // `serve` may have made a first admin for the link it printed (in sandbox mode), if it
    // got there before ana did.
    let people: Vec<&str> = emails.iter().copied().filter(|e| !e.starts_with("admin+mer_")).collect();
    assert_eq!(people, ["ana@shop.example", "view@shop.example"], "{emails:?}");
    assert!(listed.to_string().find("password").is_none(), "no hash is listed: {listed}");

    let link = run(&["dashboard-link", "--merchant", id, "--email", "ana@shop.example", "--database", url], &[]).await;
    let link = String::from_utf8(link.stdout).unwrap();
    assert_eq!(link.lines().count(), 1, "one line, the URL: {link}");
    let path = &link.trim()[link.find("/dashboard/login/").unwrap()..];
    for path in [path, &invite_link[invite_link.find("/dashboard/login/").unwrap()..]] {
        let signed_in = http.get(format!("{}{path}", server.base_url)).send().await.unwrap();
        assert_eq!(signed_in.status(), 200, "the link works on the running server");
        let again = http.get(format!("{}{path}", server.base_url)).send().await.unwrap();
        assert_eq!(again.status(), 410, "once");
    }
    let nobody =
        run(&["dashboard-link", "--merchant", id, "--email", "nobody@shop.example", "--database", url], &[]).await;
    assert!(!nobody.status.success());

    let text = run(&["merchant", "create", "--name", "Text Shop", "--database", url], &[]).await;
    let text = String::from_utf8(text.stdout).unwrap();
    let first_admin = text.lines().find(|l| l.starts_with("Dashboard (one-time sign-in link")).expect("a sign-in link");
    let path = &first_admin[first_admin.find("/dashboard/login/").unwrap()..];
    let response = http.get(format!("{}{path}", server.base_url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("admin+mer_"), "the first admin");
}

#[tokio::test]
async fn sqlite_users_and_links_from_the_command_line() {
    users_and_links_from_the_command_line(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_users_and_links_from_the_command_line() {
    users_and_links_from_the_command_line(Backend::Postgres).await;
}

/// In sandbox mode `serve` prints a one-time link to the first merchant's dashboard.
#[tokio::test]
async fn serve_prints_a_dashboard_sign_in_link_in_sandbox_mode() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    create_merchant(&database.url).await;
    let mut child = gatepost(&["serve", "--listen", "127.0.0.1:0", "--database", &database.url], &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let link = loop {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line()).await.unwrap().unwrap();
        let line = line.unwrap_or_else(|| panic!("no link in {printed:?}"));
        if let Some(at) = line.find("http://")
            && line.contains("/dashboard/login/")
        {
            break line[at..].to_owned();
        }
        printed.push(line);
    };
    assert!(printed.iter().any(|l| l.contains("listening on")), "{printed:?}");
    let response = gatepost_testkit::http().get(&link).send().await.unwrap();
    assert_eq!(response.status(), 200);
    child.kill().await.unwrap();
}

/// API keys from the command line (docs/reference/api.md#api-keys): a second key works on
/// the running server at once, is listed by its prefix only, and is refused within a
/// second of being revoked.
async fn api_keys_from_the_command_line(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let url = database.url.as_str();
    let merchant = create_merchant(url).await;
    let id = merchant["id"].as_str().unwrap();
    let server = serve(url).await;

    let created =
        run(&["key", "create", "--merchant", id, "--description", "backend", "--json", "--database", url], &[]).await;
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let key = created["api_key"].as_str().unwrap();
    assert!(key.starts_with("sk_test_") && created["prefix"] == key[..12]);
    let payments = |key: String| {
        let server = &server;
        async move {
            gatepost_testkit::http()
                .get(format!("{}/v1/payments", server.base_url))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(payments(key.to_owned()).await, 200);

    let listed = run(&["key", "list", "--merchant", id, "--json", "--database", url], &[]).await;
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2, "the merchant's first key and this one: {listed}");
    assert!(!listed.to_string().contains(key), "never the key itself");
    assert!(listed.to_string().contains("backend"));

    let key_id = created["id"].as_str().unwrap();
    let revoked = run(&["key", "revoke", "--merchant", id, "--key", key_id, "--database", url], &[]).await;
    assert!(revoked.status.success(), "{}", String::from_utf8_lossy(&revoked.stderr));
    let start = std::time::Instant::now();
    while payments(key.to_owned()).await != 401 {
        assert!(start.elapsed() < std::time::Duration::from_millis(1500), "refused within a second");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(payments(merchant["api_key"].as_str().unwrap().to_owned()).await, 200);
    let again = run(&["key", "revoke", "--merchant", id, "--key", key_id, "--database", url], &[]).await;
    assert!(!again.status.success());
    let elsewhere = run(&["key", "create", "--merchant", "mer_nope", "--database", url], &[]).await;
    assert!(String::from_utf8_lossy(&elsewhere.stderr).contains("does not exist"));
}

#[tokio::test]
async fn sqlite_api_keys_from_the_command_line() {
    api_keys_from_the_command_line(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_api_keys_from_the_command_line() {
    api_keys_from_the_command_line(Backend::Postgres).await;
}

/// On an empty sandbox database, `serve`'s link makes the first merchant: the newcomer's
/// way into the dashboard and to an API key without another command
/// (docs/reference/dashboard.md#users).
#[tokio::test]
async fn serve_on_an_empty_sandbox_prints_a_link_that_makes_the_first_merchant() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let mut child = gatepost(&["serve", "--listen", "127.0.0.1:0", "--database", &database.url], &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let link = loop {
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line()).await.unwrap().unwrap();
        let line = line.expect("a link");
        if line.starts_with("Dashboard (one-time sign-in link") {
            break line[line.find("http://").unwrap()..].to_owned();
        }
    };
    let http = gatepost_testkit::http();
    let listed = run(&["merchant", "list", "--json", "--database", &database.url], &[]).await;
    assert_eq!(String::from_utf8_lossy(&listed.stdout).trim(), "[]", "nothing is made until the link is followed");

    let page = http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("gatepost_session=")));
    let html = page.text().await.unwrap();
    let value = |id: &str| {
        let marker = format!("id=\"{id}\" readonly value=\"");
        let start = html.find(&marker).unwrap() + marker.len();
        html[start..start + html[start..].find('"').unwrap()].to_owned()
    };
    let (key, secret) = (value("api-key"), value("webhook-secret"));
    assert!(key.starts_with("sk_test_") && secret.starts_with("whsec_"), "{html}");
    let base = &link[..link.find("/dashboard").unwrap()];
    let created = http
        .post(format!("{base}/v1/payments"))
        .bearer_auth(&key)
        .body(r#"{"amount":1050,"currency":"EUR"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "the key shown works at once");
    assert_eq!(http.get(&link).send().await.unwrap().status(), 410, "the link works once");
    let listed = run(&["merchant", "list", "--json", "--database", &database.url], &[]).await;
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["name"], "My Shop");
    child.kill().await.unwrap();
}
