//! Signing in and out (docs/reference/dashboard.md#signing-in): passwords, one-time links,
//! sessions that end, the sign-in form's CSRF token, and throttling.

use super::{Dashboard, PASSWORD, link_path, see_other, session_cookie, user};
use crate::checkout::Page;
use gatepost_testkit::TestApp;

/// The sign-in form as a browser gets it: its page, and the cookie its token rides in.
async fn sign_in_form(app: &TestApp) -> (String, String) {
    let response = app.http.get(app.url("/dashboard/login")).send().await.unwrap();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gatepost_sign_in="))
        .expect("the form's cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let page = Page::from(response).await;
    assert_eq!(page.status, 200);
    (cookie, page.input("csrf_token").expect("the form's csrf_token"))
}

async fn try_sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let (cookie, csrf) = sign_in_form(app).await;
    let form = [("email", email), ("password", password), ("csrf_token", &csrf)];
    app.http.post(app.url("/dashboard/login")).header("cookie", cookie).form(&form).send().await.unwrap()
}

async fn a_password_signs_in_and_sign_out_ends_the_session(app: TestApp) {
    user(&app, &app.merchant.id, "Ana@Shop.example", "viewer").await;
    let response = try_sign_in(&app, " ana@shop.EXAMPLE", PASSWORD).await;
    let cookies: Vec<String> =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert_eq!(see_other(&response), "/dashboard");
    let session = session_cookie(&response).expect("a session cookie");
    let attributes = cookies.iter().find(|c| c.starts_with("gatepost_session=")).unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/dashboard"] {
        assert!(attributes.contains(attribute), "{attributes}");
    }
    assert!(!attributes.contains("Secure"), "not on http: {attributes}");

    let mut dashboard = Dashboard { app: &app, cookie: session, csrf: String::new() };
    let overview = dashboard.page("/dashboard").await;
    assert_eq!(overview.status, 200);
    assert!(overview.contains("Test Shop") && overview.contains("ana@shop.example"), "{}", overview.html);
    dashboard.csrf = overview.input("csrf_token").unwrap();

    assert_eq!(see_other(&dashboard.post("/dashboard/logout", &[]).await), "/dashboard/login");
    let after = dashboard
        .app
        .http
        .get(app.url("/dashboard"))
        .header("cookie", format!("gatepost_session={}", dashboard.cookie));
    let after = after.send().await.unwrap();
    assert_eq!(see_other(&after), "/dashboard/login", "the cookie is refused once signed out");
    let post_after = dashboard.post("/dashboard/logout", &[]).await;
    assert_eq!(post_after.status(), 403, "a form of an ended session changes nothing");
}

async fn a_wrong_password_and_an_unknown_address_answer_alike(app: TestApp) {
    user(&app, &app.merchant.id, "ana@shop.example", "admin").await;
    let scrub = |html: String| {
        // The answers differ only in their fresh tokens and the address typed back.
        html.lines()
            .filter(|line| !line.contains("csrf_token") && !line.contains("nonce") && !line.contains("name=\"email\""))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let wrong = try_sign_in(&app, "ana@shop.example", "not the password").await;
    assert_eq!(wrong.status(), 401);
    assert!(session_cookie(&wrong).is_none());
    let unknown = try_sign_in(&app, "nobody@shop.example", PASSWORD).await;
    assert_eq!(unknown.status(), 401);
    assert_eq!(scrub(wrong.text().await.unwrap()), scrub(unknown.text().await.unwrap()));
}

async fn sign_in_is_throttled_after_five_failures_for_one_address(app: TestApp) {
    user(&app, &app.merchant.id, "ana@shop.example", "admin").await;
    for _ in 0..5 {
        assert_eq!(try_sign_in(&app, "ana@shop.example", "not the password").await.status(), 401);
    }
    let throttled = try_sign_in(&app, "ana@shop.example", PASSWORD).await;
    assert_eq!(throttled.status(), 429, "even the right password waits");
    assert_eq!(throttled.headers()["retry-after"], "900");
    assert!(session_cookie(&throttled).is_none());
    // Another address is not held back by ana's failures…
    user(&app, &app.merchant.id, "bo@shop.example", "admin").await;
    assert_eq!(see_other(&try_sign_in(&app, "bo@shop.example", PASSWORD).await), "/dashboard");
    // …until this client has failed 20 times, whatever the addresses.
    for n in 0..15 {
        let answer = try_sign_in(&app, &format!("guess{n}@shop.example"), "not the password").await;
        assert_eq!(answer.status(), 401, "failure {n}");
    }
    assert_eq!(try_sign_in(&app, "bo@shop.example", PASSWORD).await.status(), 429);
}

async fn the_sign_in_form_needs_its_csrf_token(app: TestApp) {
    user(&app, &app.merchant.id, "ana@shop.example", "admin").await;
    let (cookie, csrf) = sign_in_form(&app).await;
    let post = |cookie: Option<String>, token: String| {
        let mut request = app.http.post(app.url("/dashboard/login"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request
            .form(&[("email", "ana@shop.example".to_owned()), ("password", PASSWORD.to_owned()), ("csrf_token", token)])
            .send()
    };
    assert_eq!(post(None, csrf.clone()).await.unwrap().status(), 403, "no cookie");
    assert_eq!(post(Some(cookie.clone()), String::new()).await.unwrap().status(), 403, "no token");
    assert_eq!(post(Some(cookie.clone()), format!("{csrf}x")).await.unwrap().status(), 403, "a wrong token");
    assert_eq!(see_other(&post(Some(cookie), csrf).await.unwrap()), "/dashboard");
}

async fn a_one_time_link_signs_in_once(app: TestApp) {
    let ana = user(&app, &app.merchant.id, "ana@shop.example", "viewer").await;
    let path = link_path(&app, &ana).await;
    let first = app.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(session_cookie(&first).is_some());
    let second = app.http.get(app.url(&path)).send().await.unwrap();
    assert_eq!(second.status(), 410);
    assert!(session_cookie(&second).is_none());
    let made_up = app.http.get(app.url("/dashboard/login/not-a-real-token")).send().await.unwrap();
    assert_eq!(made_up.status(), 410);
}

async fn a_link_used_many_times_at_once_signs_in_once(app: TestApp) {
    let ana = user(&app, &app.merchant.id, "ana@shop.example", "viewer").await;
    let url = app.url(&link_path(&app, &ana).await);
    let uses = (0..12).map(|_| app.http.get(&url).send());
    let answers = futures::future::join_all(uses).await;
    let signed_in = answers.iter().filter(|a| a.as_ref().unwrap().status() == 200).count();
    let gone = answers.iter().filter(|a| a.as_ref().unwrap().status() == 410).count();
    assert_eq!((signed_in, gone), (1, 11));
}

async fn signed_out_requests_are_sent_to_sign_in_or_refused(app: TestApp) {
    for path in ["/dashboard", "/dashboard/payments", "/dashboard/payments/pay_1"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(see_other(&response), "/dashboard/login", "{path}");
        let forged = app.http.get(app.url(path)).header("cookie", "gatepost_session=forged").send().await.unwrap();
        assert_eq!(see_other(&forged), "/dashboard/login", "{path}");
    }
    let post = app.http.post(app.url("/dashboard/logout")).form(&[("csrf_token", "x")]).send().await.unwrap();
    assert_eq!(post.status(), 403);
    assert!(post.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
}

async fn a_user_sets_their_own_password_and_signs_in_with_it(app: TestApp) {
    // An invited user (no password) signs in by link, then sets one.
    let bo = gatepost::users::create_user(app.store.as_ref(), &app.merchant.id, "bo@shop.example", "viewer", None)
        .await
        .unwrap();
    let dashboard = Dashboard::sign_in(&app, &bo).await;
    let set = |current: &str, new: &str, again: &str, key: &str| {
        let form = vec![
            ("current_password", current.to_owned()),
            ("new_password", new.to_owned()),
            ("repeat_password", again.to_owned()),
            ("idempotency_key", key.to_owned()),
        ];
        let dashboard = &dashboard;
        async move { dashboard.post("/dashboard/settings/password", &form).await }
    };
    assert_eq!(set("", "a new password", "another one!", "k1").await.status(), 422, "the two differ");
    assert_eq!(set("", "short", "short", "k2").await.status(), 422, "too short");
    assert_eq!(
        see_other(&set("", "a new password", "a new password", "k3").await),
        "/dashboard/settings?done=password"
    );
    assert_eq!(see_other(&try_sign_in(&app, "bo@shop.example", "a new password").await), "/dashboard");
    // Once there is one, changing it takes the current one.
    assert_eq!(set("", "third password", "third password", "k4").await.status(), 422);
    assert_eq!(set("wrong password", "third password", "third password", "k5").await.status(), 422);
    assert_eq!(
        see_other(&set("a new password", "third password", "third password", "k6").await),
        "/dashboard/settings?done=password"
    );
    assert_eq!(try_sign_in(&app, "bo@shop.example", "a new password").await.status(), 401);
    let other_session = session_cookie(&try_sign_in(&app, "bo@shop.example", "third password").await).unwrap();
    let other = Dashboard { app: &app, cookie: other_session, csrf: String::new() };
    assert_eq!(other.page("/dashboard").await.status, 200);
    // A new password ends every other session of the user.
    assert_eq!(
        see_other(&set("third password", "fourth password", "fourth password", "k7").await),
        "/dashboard/settings?done=password"
    );
    assert_eq!(dashboard.page("/dashboard").await.status, 200, "the session that set it stays");
    let ended = app.http.get(app.url("/dashboard")).header("cookie", format!("gatepost_session={}", other.cookie));
    assert_eq!(see_other(&ended.send().await.unwrap()), "/dashboard/login");
}

async fn guesses_sent_at_once_are_throttled_like_guesses_in_a_row(app: TestApp) {
    user(&app, &app.merchant.id, "ana@shop.example", "admin").await;
    let guesses = (0..12).map(|n| {
        let app = &app;
        async move { try_sign_in(app, "ana@shop.example", &format!("guess number {n}")).await.status().as_u16() }
    });
    let answers = futures::future::join_all(guesses).await;
    let checked = answers.iter().filter(|status| **status == 401).count();
    assert!(checked <= 5, "at most 5 passwords checked for one address, whatever the timing: {answers:?}");
    assert!(answers.iter().all(|status| [401, 429].contains(status)), "{answers:?}");
    // Guesses that were turned away are not counted: the address has exactly 5 checks in all.
    let mut checked_after = 0;
    while try_sign_in(&app, "ana@shop.example", "one more guess").await.status() == 401 {
        checked_after += 1;
        assert!(checked_after <= 5, "throttled after 5 checks");
    }
    assert_eq!(checked + checked_after, 5, "{answers:?}");
    assert_eq!(try_sign_in(&app, "ana@shop.example", PASSWORD).await.status(), 429);
}

gatepost_testkit::on_both_backends!(
    guesses_sent_at_once_are_throttled_like_guesses_in_a_row,
    a_user_sets_their_own_password_and_signs_in_with_it,
    a_password_signs_in_and_sign_out_ends_the_session,
    a_wrong_password_and_an_unknown_address_answer_alike,
    sign_in_is_throttled_after_five_failures_for_one_address,
    the_sign_in_form_needs_its_csrf_token,
    a_one_time_link_signs_in_once,
    a_link_used_many_times_at_once_signs_in_once,
    signed_out_requests_are_sent_to_sign_in_or_refused,
);

/// Scenarios that move the clock.
mod in_time {
    use super::*;
    use gatepost_core::time::ManualClock;

    async fn a_link_expires_after_fifteen_minutes(app: TestApp, clock: ManualClock) {
        let ana = user(&app, &app.merchant.id, "ana@shop.example", "viewer").await;
        let path = link_path(&app, &ana).await;
        clock.advance_seconds(15 * 60 + 1);
        assert_eq!(app.http.get(app.url(&path)).send().await.unwrap().status(), 410);
    }

    async fn a_session_ends_after_twelve_idle_hours(app: TestApp, clock: ManualClock) {
        let ana = user(&app, &app.merchant.id, "ana@shop.example", "viewer").await;
        let dashboard = Dashboard::sign_in(&app, &ana).await;
        clock.advance_seconds(11 * 3600);
        assert_eq!(dashboard.page("/dashboard").await.status, 200, "a request keeps it open");
        clock.advance_seconds(11 * 3600);
        assert_eq!(dashboard.page("/dashboard").await.status, 200, "11 h after the last request");
        clock.advance_seconds(12 * 3600);
        let idle = dashboard
            .app
            .http
            .get(app.url("/dashboard"))
            .header("cookie", format!("gatepost_session={}", dashboard.cookie));
        assert_eq!(see_other(&idle.send().await.unwrap()), "/dashboard/login", "12 h idle");
    }

    gatepost_testkit::on_both_backends_with_clock!(
        a_link_expires_after_fifteen_minutes,
        a_session_ends_after_twelve_idle_hours
    );
}
