//! Helpers for driving the hosted payment page over HTTP like a browser without
//! JavaScript would.

use gatepost_testkit::TestApp;
use reqwest::Response;
use serde_json::{Value, json};

/// A payment and its hosted page.
pub struct Checkout {
    pub payment_id: String,
    /// The `/pay/{token}` path.
    pub path: String,
}

/// A page as the browser got it.
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub html: String,
}

impl Page {
    pub async fn from(response: Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let html = response.text().await.unwrap();
        Self { status, headers, html }
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }

    /// The value of the input named `name` (the first one).
    pub fn input(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.html.find(&marker)? + marker.len();
        let end = self.html[start..].find('"')? + start;
        Some(self.html[start..end].to_owned())
    }

    pub fn form_token(&self) -> String {
        self.input("form_token").unwrap_or_else(|| panic!("no form_token in:\n{}", self.html))
    }

    pub fn contains(&self, text: &str) -> bool {
        self.html.contains(text)
    }
}

/// The usual card form fields for a test card.
pub fn card_form(form_token: &str, number: &str) -> Vec<(&'static str, String)> {
    vec![
        ("form_token", form_token.to_owned()),
        ("card_number", number.to_owned()),
        ("card_expiry", "12/34".to_owned()),
        ("card_cvc", "123".to_owned()),
        ("cardholder_name", "Ana Example".to_owned()),
    ]
}

/// The hosted page as these tests drive it, on a [`TestApp`].
pub(crate) trait HostedPage {
    /// Creates a payment with `body` merged into a default one, and returns its page.
    async fn checkout(&self, body: Value) -> Checkout;
    async fn page(&self, path: &str) -> Page;
    async fn submit(&self, path: &str, fields: &[(&str, String)]) -> Response;
    /// Opens the page and pays with `number`, as a shopper would.
    async fn pay(&self, checkout: &Checkout, number: &str) -> Response;
}

impl HostedPage for TestApp {
    async fn checkout(&self, body: Value) -> Checkout {
        let mut payment = json!({"amount": 1050, "currency": "EUR"});
        payment.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
        let created = self.create_payment(&payment).await;
        let url = created["checkout_url"].as_str().unwrap();
        Checkout {
            payment_id: created["id"].as_str().unwrap().to_owned(),
            path: url.strip_prefix(&self.base_url).expect("checkout on this server").to_owned(),
        }
    }

    async fn page(&self, path: &str) -> Page {
        Page::from(self.http.get(self.url(path)).send().await.unwrap()).await
    }

    async fn submit(&self, path: &str, fields: &[(&str, String)]) -> Response {
        self.http.post(self.url(path)).form(fields).send().await.unwrap()
    }

    async fn pay(&self, checkout: &Checkout, number: &str) -> Response {
        let token = self.page(&checkout.path).await.form_token();
        self.submit(&checkout.path, &card_form(&token, number)).await
    }
}

/// The query parameters of a URL, in order.
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

pub fn location(response: &Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}
