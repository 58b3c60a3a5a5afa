//! A headless Chromium of its own for one test, driven over WebDriver by fantoccini: the
//! browser tests of the gateway's hosted page and of the example shop share it.
//!
//! It needs `chromedriver` on the `PATH` and Chromium at `/usr/bin/chromium` (`scripts/test`
//! installs both); `GATEPOST_TEST_CHROMEDRIVER` and `GATEPOST_TEST_CHROMIUM` name others.
//! Each browser needs far more memory and CPU than a test of the API, so the tests that
//! use one run in nextest's `browser` group, one at a time (`.config/nextest.toml`).

use fantoccini::wd::{Capabilities, TimeoutConfiguration};
use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt as _;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::panic::AssertUnwindSafe;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The longest any one wait in a browser test may take: a page load, an element, a URL.
pub const WAIT: Duration = Duration::from_secs(10);

/// The longest a whole browser scenario may take before it counts as hung.
pub const SCENARIO_LIMIT: Duration = Duration::from_secs(60);

/// Runs `scenario` in a fresh Chromium, then closes the browser and its driver, whether
/// the scenario passed, failed or hung.
pub async fn in_browser(scenario: impl AsyncFnOnce(&Browser)) {
    in_browser_within(SCENARIO_LIMIT, scenario).await;
}

/// [`in_browser`] for a scenario that visits many pages, with its own time limit.
pub async fn in_browser_within(limit: Duration, scenario: impl AsyncFnOnce(&Browser)) {
    let browser = Browser::launch().await;
    let outcome = tokio::time::timeout(limit, AssertUnwindSafe(scenario(&browser)).catch_unwind()).await;
    browser.close().await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the browser scenario did not finish within {limit:?}"),
    }
}

/// Chromium's flags: headless, and quiet on the network, so that the only requests it
/// makes are the test's own to 127.0.0.1.
const CHROMIUM_FLAGS: [&str; 10] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    // Host names resolve to nothing; the tests only use IP addresses.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

/// One chromedriver with one browser session, for one test.
pub struct Browser {
    client: Client,
    /// Killed, with the browser it started, when the test ends however it ends.
    driver: Child,
    /// A fresh profile, so no test sees another's cookies or cache.
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a session in a new headless Chromium.
    pub async fn launch() -> Self {
        let port = free_port();
        let driver = Command::new(env_or("GATEPOST_TEST_CHROMEDRIVER", "chromedriver"))
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so that dropping it can end Chromium as well.
            .process_group(0)
            .spawn()
            .expect("chromedriver starts (scripts/test installs chromium-driver)");
        let driver_url = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("profile dir");
        let mut pending = PendingDriver(Some(driver));
        wait_until_listening(port).await;

        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|&f| f.to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let mut capabilities = Capabilities::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({"binary": env_or("GATEPOST_TEST_CHROMIUM", "/usr/bin/chromium"), "args": args}),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver_url)
            .await
            .expect("a Chromium session starts");
        client
            .update_timeouts(TimeoutConfiguration::new(Some(WAIT), Some(WAIT), Some(Duration::ZERO)))
            .await
            .expect("session timeouts");
        Self { client, driver: pending.0.take().expect("driver"), _profile: profile }
    }

    /// Ends the session, which closes Chromium, then chromedriver.
    pub async fn close(self) {
        let _ = tokio::time::timeout(WAIT, self.client.clone().close()).await;
    }

    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The page's URL now.
    pub async fn url(&self) -> String {
        self.client.current_url().await.expect("current URL").into()
    }

    /// Waits until the page's URL starts with `prefix`, and returns it.
    pub async fn wait_for_url(&self, prefix: &str) -> String {
        self.wait_until(&format!("a URL starting with {prefix}"), async |b| b.url().await.starts_with(prefix)).await;
        self.url().await
    }

    /// Polls `done` until it holds, for at most [`WAIT`].
    pub async fn wait_until(&self, what: &str, done: impl AsyncFn(&Self) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !done(self).await {
            if tokio::time::Instant::now() >= deadline {
                let text = self.client.source().await.unwrap_or_default();
                panic!("the browser did not reach {what} within {WAIT:?}; it is on {}:\n{text}", self.url().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The page's `h1`, if it has one now.
    pub async fn heading(&self) -> Option<String> {
        let h1 = self.client.find(Locator::Css("h1")).await.ok()?;
        h1.text().await.ok()
    }

    /// The element `css` selects, once it is on the page.
    async fn element(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(element) => element,
            Err(e) => panic!("no {css} on {}: {e}", self.url().await),
        }
    }

    /// The visible text of the element `css` selects.
    pub async fn text(&self, css: &str) -> String {
        self.element(css).await.text().await.expect("element text")
    }

    /// Types `value` into the input named `name`, replacing what it holds.
    pub async fn fill(&self, name: &str, value: &str) {
        let input = self.element(&format!("input[name=\"{name}\"]")).await;
        input.clear().await.expect("clear input");
        input.send_keys(value).await.expect("type into input");
    }

    /// Fills the card form as a shopper would, with a future expiry.
    pub async fn fill_card(&self, number: &str) {
        self.fill("card_number", number).await;
        self.fill("card_expiry", "12/34").await;
        self.fill("card_cvc", "123").await;
        self.fill("cardholder_name", "Ana Example").await;
    }

    /// Clicks the button or link `css` selects, like a pointer would, and waits until the
    /// browser has left the page: WebDriver's click may return before a form's submission
    /// has replaced the page, and typing into the old one would go nowhere.
    pub async fn click_through(&self, css: &str) {
        let page = self.element("html").await;
        self.element(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
        // An element of a page that is gone can no longer be asked anything.
        self.wait_until(&format!("the page after clicking {css}"), async |_| page.tag_name().await.is_err()).await;
    }

    /// Types `value` into the input `css` selects, replacing what it holds.
    pub async fn fill_in(&self, css: &str, value: &str) {
        let input = self.element(css).await;
        input.clear().await.expect("clear input");
        input.send_keys(value).await.expect("type into input");
    }

    /// Chooses the option `value` of the select named `name`.
    pub async fn select(&self, name: &str, value: &str) {
        let select = self.element(&format!("select[name=\"{name}\"]")).await;
        select.select_by_value(value).await.unwrap_or_else(|e| panic!("select {value} in {name}: {e}"));
    }

    /// Clicks what `css` selects and stays on the page (a checkbox, a radio button).
    pub async fn click(&self, css: &str) {
        self.element(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Whether the page has an element that `css` selects, now.
    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Runs `script` in the page and returns what it returns.
    pub async fn run_script(&self, script: &str) -> Value {
        self.client.execute(script, Vec::new()).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs `script`, which ends by calling `arguments[arguments.length - 1]` with its
    /// result, and returns that result (for promises: `fetch`, axe-core's `run`).
    pub async fn run_async_script(&self, script: &str) -> Value {
        self.client
            .execute_async(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("async script failed: {e}\n{}", script.chars().take(200).collect::<String>()))
    }

    /// Makes the page's viewport `width` × `height` CSS pixels.
    pub async fn resize_viewport(&self, width: u32, height: u32) {
        // The window may be larger than its viewport: size it, measure, and correct once.
        self.client.set_window_size(width, height).await.expect("window size");
        let inner = self.run_script("return [window.innerWidth, window.innerHeight];").await;
        let (inner_width, inner_height) = (as_u32(&inner[0]), as_u32(&inner[1]));
        if (inner_width, inner_height) != (width, height) {
            self.client.set_window_size(width * 2 - inner_width, height * 2 - inner_height).await.expect("window size");
        }
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        self.client.screenshot().await.expect("screenshot")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        end_process_group(&mut self.driver);
    }
}

/// Owns chromedriver until the session is up, so that a failed start still ends it.
struct PendingDriver(Option<Child>);

impl Drop for PendingDriver {
    fn drop(&mut self) {
        if let Some(driver) = &mut self.0 {
            end_process_group(driver);
        }
    }
}

/// Kills chromedriver and whatever it started in its process group, then reaps it.
fn end_process_group(driver: &mut Child) {
    let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", driver.id())]).stderr(Stdio::null()).status();
    let _ = driver.kill();
    let _ = driver.wait();
}

/// Waits until chromedriver listens, which it does once it accepts sessions.
async fn wait_until_listening(port: u16) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(tokio::time::Instant::now() < deadline, "chromedriver did not listen on port {port} within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port()
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn as_u32(value: &Value) -> u32 {
    value.as_u64().and_then(|v| u32::try_from(v).ok()).unwrap_or_else(|| panic!("a size in pixels, not {value}"))
}
