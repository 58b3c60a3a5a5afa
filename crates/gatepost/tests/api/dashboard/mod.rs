//! The dashboard over HTTP (docs/reference/dashboard.md), as a browser without JavaScript
//! sends it: cookies, forms and their `csrf_token`, on both backends. What only a real
//! browser shows (layout, accessibility) is in `browser/dashboard.rs`.

mod actions;
mod pages;
mod sign_in;
mod team;
mod webhooks;

use crate::checkout::{Page, location};
use gatepost::users;
use gatepost_core::dashboard::User;
use gatepost_testkit::TestApp;

pub const PASSWORD: &str = "correct horse battery";

/// A signed-in browser: its session cookie and the session's `csrf_token`.
pub struct Dashboard<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
    pub csrf: String,
}

/// A user of `merchant` with `role` and [`PASSWORD`].
pub async fn user(app: &TestApp, merchant: &str, email: &str, role: &str) -> User {
    users::create_user(app.store.as_ref(), merchant, email, role, Some(PASSWORD)).await.expect("user created")
}

/// The session cookie a response sets, if any.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_prefix("gatepost_session="))
        .map(|rest| rest.split(';').next().unwrap().to_owned())
        .filter(|token| !token.is_empty())
}

/// A one-time sign-in link's path for `user`.
pub async fn link_path(app: &TestApp, user: &User) -> String {
    let link = users::sign_in_link(app.store.as_ref(), user, &app.base_url).await.unwrap();
    link.strip_prefix(&app.base_url).unwrap().to_owned()
}

impl<'a> Dashboard<'a> {
    /// Signs `user` in with a one-time link.
    pub async fn sign_in(app: &'a TestApp, user: &User) -> Self {
        let response = app.http.get(app.url(&link_path(app, user).await)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let cookie = session_cookie(&response).expect("a session cookie");
        let mut dashboard = Self { app, cookie, csrf: String::new() };
        let overview = dashboard.page("/dashboard").await;
        assert_eq!(overview.status, 200, "{}", overview.html);
        dashboard.csrf = overview.input("csrf_token").expect("the sign-out form has the csrf_token");
        dashboard
    }

    /// A new admin of the app's merchant, signed in.
    pub async fn admin(app: &'a TestApp) -> Self {
        let admin = user(app, &app.merchant.id, "admin@shop.example", "admin").await;
        Self::sign_in(app, &admin).await
    }

    pub async fn page(&self, path: &str) -> Page {
        let response =
            self.app.http.get(self.app.url(path)).header("cookie", format!("gatepost_session={}", self.cookie));
        Page::from(response.send().await.unwrap()).await
    }

    /// Posts a form with `fields` as they are: add `csrf_token` to send one.
    pub async fn post_raw(&self, path: &str, fields: &[(&str, String)]) -> reqwest::Response {
        let request =
            self.app.http.post(self.app.url(path)).header("cookie", format!("gatepost_session={}", self.cookie));
        request.form(fields).send().await.unwrap()
    }

    /// Posts a form with `fields` and this session's `csrf_token`.
    pub async fn post(&self, path: &str, fields: &[(&str, String)]) -> reqwest::Response {
        let mut fields = fields.to_vec();
        fields.push(("csrf_token", self.csrf.clone()));
        self.post_raw(path, &fields).await
    }

    /// Posts an action form of a payment's page, as its page wrote it.
    pub async fn act(&self, payment: &str, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let page = self.page(&format!("/dashboard/payments/{payment}")).await;
        let key = page.input("idempotency_key").unwrap_or_else(|| "no-form".to_owned());
        let mut form: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        form.push(("idempotency_key", key));
        self.post(&format!("/dashboard/payments/{payment}/{action}"), &form).await
    }
}

/// Where a `303` goes.
pub fn see_other(response: &reqwest::Response) -> String {
    assert_eq!(response.status(), 303);
    location(response)
}
