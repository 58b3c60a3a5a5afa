//! A shopper on the hosted payment page, as a browser without JavaScript would be.

/// A shopper with a plain HTTP client: it follows no redirect, so a test decides whether
/// the browser ever gets where the gateway sends it.
#[derive(Clone, Debug)]
pub struct Shopper {
    http: reqwest::Client,
}

impl Default for Shopper {
    fn default() -> Self {
        Self::new()
    }
}

impl Shopper {
    #[must_use]
    pub fn new() -> Self {
        Self { http: crate::http() }
    }

    /// The shopper's HTTP client, for requests of a test's own.
    #[must_use]
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Opens the payment page and submits `card`; returns the gateway's answer, redirect
    /// not followed.
    ///
    /// # Panics
    /// If the page does not load or has no form token.
    pub async fn submit_card(&self, checkout_url: &str, card: &str) -> reqwest::Response {
        let page = self.http.get(checkout_url).send().await.unwrap().text().await.unwrap();
        let form_token = input_value(&page, "form_token");
        self.http
            .post(checkout_url)
            .form(&[
                ("form_token", form_token.as_str()),
                ("card_number", card),
                ("card_expiry", "12/34"),
                ("card_cvc", "123"),
                ("cardholder_name", "Ana Example"),
            ])
            .send()
            .await
            .unwrap()
    }

    /// Pays with `card`, which must end the page with a redirect; returns where the
    /// gateway sends the browser next.
    ///
    /// # Panics
    /// If the gateway does not answer `303 See Other`.
    pub async fn pay(&self, checkout_url: &str, card: &str) -> String {
        let response = self.submit_card(checkout_url, card).await;
        assert_eq!(response.status(), 303, "the payment page redirects after paying");
        location(&response)
    }

    /// `GET url`: the status and the page.
    ///
    /// # Panics
    /// If the request cannot be sent.
    pub async fn get(&self, url: &str) -> (u16, String) {
        let response = self.http.get(url).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

/// The `Location` of a redirect.
///
/// # Panics
/// If there is none.
#[must_use]
pub fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").expect("a Location header").to_str().unwrap().to_owned()
}

/// The value of the first input named `name` in `html`.
///
/// # Panics
/// If there is none.
#[must_use]
pub fn input_value(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in:\n{html}")) + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}
