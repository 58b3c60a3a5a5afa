//! The merchant's return page: a small server that records every return the browser
//! brings to it.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, Uri};
use axum::response::Html;
use axum::routing::any;
use gatepost_browser::WAIT;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request to the return page, as the merchant's server saw it.
#[derive(Clone, Debug)]
pub struct ReceivedReturn {
    pub method: Method,
    /// The URL's query, in order: the merchant's own parameters, then gatepost's on a GET.
    pub query: Vec<(String, String)>,
    /// The form-urlencoded body of a POST, in order.
    pub form: Vec<(String, String)>,
}

impl ReceivedReturn {
    /// The return parameters, wherever the method put them.
    pub fn params(&self) -> &[(String, String)] {
        if self.method == Method::POST { &self.form } else { &self.query }
    }

    /// The value of the return parameter `name`.
    pub fn param(&self, name: &str) -> &str {
        self.params()
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} in {self:?}"))
    }

    /// The value of the merchant's own query parameter `name`, if there is one.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

type Received = Arc<Mutex<Vec<ReceivedReturn>>>;

/// A merchant's server on 127.0.0.1 with `GET` and `POST /return`.
pub struct MerchantReceiver {
    base_url: String,
    received: Received,
    server: tokio::task::JoinHandle<()>,
}

impl MerchantReceiver {
    pub async fn start() -> Self {
        let received = Received::default();
        let router = Router::new().route("/return", any(record_return)).with_state(received.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("receiver binds");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("receiver runs");
        });
        Self { base_url, received, server }
    }

    /// An absolute URL on this server, e.g. `url("/return?outcome=cancel")`.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base_url)
    }

    /// Every return received so far.
    pub fn received(&self) -> Vec<ReceivedReturn> {
        self.received.lock().unwrap().clone()
    }

    /// Waits for the first return, and checks that it is the only one.
    pub async fn wait_for_the_return(&self) -> ReceivedReturn {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let received = self.received();
            if let [only] = received.as_slice() {
                return only.clone();
            }
            assert!(received.is_empty(), "the merchant got more than one return: {received:?}");
            assert!(tokio::time::Instant::now() < deadline, "the merchant got no return within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the first return; repeats of it are allowed but must be identical. After
    /// a double click a browser may follow the same redirect twice: the return is for
    /// display, and a merchant's return page must bear being loaded again.
    pub async fn wait_for_returns_of_one_kind(&self) -> ReceivedReturn {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let received = self.received();
            if let Some(first) = received.first() {
                assert!(
                    received.iter().all(|r| format!("{r:?}") == format!("{first:?}")),
                    "different returns: {received:?}"
                );
                return first.clone();
            }
            assert!(tokio::time::Instant::now() < deadline, "the merchant got no return within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for MerchantReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn record_return(State(received): State<Received>, method: Method, uri: Uri, body: Bytes) -> Html<&'static str> {
    let pairs = |bytes: &[u8]| -> Vec<(String, String)> {
        url::form_urlencoded::parse(bytes).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    };
    let request = ReceivedReturn {
        query: pairs(uri.query().unwrap_or_default().as_bytes()),
        form: if method == Method::POST { pairs(&body) } else { Vec::new() },
        method,
    };
    received.lock().unwrap().push(request);
    Html(
        "<!doctype html><html lang=\"en\"><title>Shop</title>\
         <h1 id=\"merchant\">Merchant return page</h1></html>",
    )
}
