//! Signing in and out (docs/reference/dashboard.md#signing-in): the e-mail and password
//! form, one-time links, and sign-out. Failed sign-ins are throttled per e-mail address and
//! per client address (docs/reference/limits.md#sign-in), and every failure answers the
//! same whether the address exists or not.

use super::pages::{Frame, Section, forbidden, html, message};
use super::session::{Fields, PostedForm, cookie, nonce_of, same_secret, token_hash};
use crate::AppState;
use crate::connections::Peer;
use crate::hpp::CspNonce;
use askama::Template;
use axum::Extension;
use axum::extract::{FromRequestParts as _, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatepost_core::dashboard::{
    AuditAction, Email, PasswordHash, SANDBOX_MERCHANT_NAME, SIGN_IN_WINDOW, User, sign_in_throttled,
};
use gatepost_core::ids::{MerchantId, random_token};
use gatepost_core::payment::{AckMode, Merchant};
use gatepost_core::urls::Mode;
use gatepost_store::{LinkHolder, NewMerchant};

/// The session cookie (docs/reference/dashboard.md#sessions).
pub(crate) const SESSION_COOKIE: &str = "gatepost_session";

/// The sign-in form's own CSRF token, as a cookie the form repeats: there is no session to
/// keep it in yet.
const SIGN_IN_COOKIE: &str = "gatepost_sign_in";

#[derive(Template)]
#[template(path = "dashboard/sign_in.html")]
struct SignInPage {
    frame: Frame,
    csrf_token: String,
    email: String,
    error: Option<&'static str>,
}

/// `Set-Cookie` for a cookie of the dashboard: `HttpOnly`, `SameSite=Strict`, only under
/// `/dashboard`, and `Secure` when the dashboard is served over https.
fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let https = state.settings().public_url.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    let secure = if https { "; Secure" } else { "" };
    let max_age = max_age.map(|seconds| format!("; Max-Age={seconds}")).unwrap_or_default();
    HeaderValue::from_str(&format!("{name}={value}; Path=/dashboard; HttpOnly; SameSite=Strict{secure}{max_age}"))
        .expect("tokens are URL-safe base64")
}

fn sign_in_page(
    state: &AppState,
    nonce: &CspNonce,
    status: StatusCode,
    email: String,
    error: Option<&'static str>,
) -> Response {
    let csrf_token = random_token(24);
    let page = SignInPage {
        frame: Frame::new(state, nonce, None, Section::None),
        csrf_token: csrf_token.clone(),
        email,
        error,
    };
    let mut response = html(status, &page);
    response.headers_mut().append(header::SET_COOKIE, set_cookie(state, SIGN_IN_COOKIE, &csrf_token, None));
    response
}

/// `GET /dashboard/login`.
pub(crate) async fn form(State(state): State<AppState>, Extension(nonce): Extension<CspNonce>) -> Response {
    sign_in_page(&state, &nonce, StatusCode::OK, String::new(), None)
}

/// `POST /dashboard/login` with `email`, `password` and `csrf_token`.
pub(crate) async fn sign_in(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let nonce = nonce_of(&parts);
    let address = Peer::from_request_parts(&mut parts, &state).await.map(|peer| peer.0.ip().to_string()).ok();
    let expected = cookie(&parts.headers, SIGN_IN_COOKIE).map(str::to_owned);
    let frame = || Frame::new(&state, &nonce, None, Section::None);
    let fields = match Fields::read(Request::from_parts(parts, body), frame).await {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    if !expected.is_some_and(|expected| !expected.is_empty() && same_secret(&expected, fields.get("csrf_token"))) {
        return forbidden(frame(), "This form has expired. Reload the sign-in page and try again.");
    }
    let typed = fields.get("email").chars().take(Email::MAX_BYTES).collect::<String>();
    let email = Email::parse(&typed);
    let attempt = match Attempt::reserve(&state, email.as_ref(), address.as_deref()).await {
        Ok(Some(attempt)) => attempt,
        Ok(None) => return throttled(frame()),
        Err(error) => return super::pages::failure(frame(), &error),
    };
    let found = match &email {
        Some(email) => match state.store().user_by_email(email).await {
            Ok(found) => found,
            Err(error) => return super::pages::failure(frame(), &error),
        },
        None => None,
    };
    let (user, hash) = match found {
        Some((user, Some(hash))) => (Some(user), hash),
        // No such user, or one without a password: checked against a decoy all the same.
        _ => (None, PasswordHash::decoy().clone()),
    };
    let matches = password_matches(hash, fields.get("password").to_owned()).await;
    match user {
        Some(user) if matches => {
            if let Err(error) = attempt.succeeded(&state).await {
                return super::pages::failure(frame(), &error);
            }
            open_session(&state, &user, AuditAction::SignIn)
                .await
                .unwrap_or_else(|error| super::pages::failure(frame(), &error))
        }
        _ => sign_in_page(
            &state,
            &nonce,
            StatusCode::UNAUTHORIZED,
            typed,
            Some("The e-mail address or the password is wrong."),
        ),
    }
}

/// The `429` page of a throttled sign-in (docs/reference/limits.md#sign-in).
pub(crate) fn throttled(frame: Frame) -> Response {
    let text = "Too many failed sign-ins. Wait 15 minutes and try again.";
    let mut response = message(frame, StatusCode::TOO_MANY_REQUESTS, "Try again later", text, None);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(SIGN_IN_WINDOW.as_secs()));
    response
}

/// At most this many password checks run at once: each takes 19 MiB and tens of
/// milliseconds, so a flood of sign-ins waits its turn instead of exhausting memory.
const CONCURRENT_PASSWORD_CHECKS: usize = 4;

static PASSWORD_CHECKS: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(CONCURRENT_PASSWORD_CHECKS));

/// Whether `password` matches `hash`, checked off the request threads, a few at a time.
pub(crate) async fn password_matches(hash: PasswordHash, password: String) -> bool {
    let Ok(_permit) = PASSWORD_CHECKS.acquire().await else { return false };
    tokio::task::spawn_blocking(move || hash.verify(&password)).await.unwrap_or(false)
}

/// A password check counted as a failure before it runs, against the e-mail address and
/// the client address it concerns, so that guesses sent in parallel see each other.
pub(crate) struct Attempt {
    /// A random name for its counted failures, which a success takes back.
    id: String,
}

impl Attempt {
    /// Counts the attempt; `None` (and nothing counted) when the failures before it already
    /// reach a limit.
    pub(crate) async fn reserve(
        state: &AppState,
        email: Option<&Email>,
        address: Option<&str>,
    ) -> Result<Option<Self>, gatepost_store::StoreError> {
        let email_subject = email.map(|email| format!("email:{}", email.as_str()));
        let address_subject = address.map(|address| format!("address:{address}"));
        let subjects: Vec<String> = email_subject.iter().chain(&address_subject).cloned().collect();
        let at = state.clock().now();
        let window_start = at.plus_millis(-i64::try_from(SIGN_IN_WINDOW.as_millis()).unwrap_or(i64::MAX));
        let attempt = Self { id: random_token(16) };
        state.store().record_sign_in_failure(&subjects, &attempt.id, at).await?;
        let counts = state.store().sign_in_failures(&subjects, window_start).await?;
        // The counts include this attempt: the failures before it are one fewer.
        let before = |subject: &Option<String>| {
            subject
                .as_ref()
                .and_then(|subject| subjects.iter().position(|s| s == subject))
                .map_or(0, |i| counts[i].saturating_sub(1))
        };
        if sign_in_throttled(before(&email_subject), before(&address_subject)) {
            attempt.succeeded(state).await?;
            return Ok(None);
        }
        Ok(Some(attempt))
    }

    /// Takes the counted failure back: the password was right (or never checked).
    pub(crate) async fn succeeded(&self, state: &AppState) -> Result<(), gatepost_store::StoreError> {
        state.store().forget_sign_in_failure(&self.id).await
    }
}

/// Opens a session for `user` and answers with its cookie and the way to the overview.
async fn open_session(
    state: &AppState,
    user: &User,
    action: AuditAction,
) -> Result<Response, gatepost_store::StoreError> {
    let token = gatepost_core::dashboard::new_token();
    let now = state.clock().now();
    state.store().open_session(&user.id, &token_hash(&token), &random_token(24), now).await?;
    super::record(state, user, action, None, None).await;
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/dashboard")]).into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(state, SESSION_COOKIE, &token, None));
    response.headers_mut().append(header::SET_COOKIE, set_cookie(state, SIGN_IN_COOKIE, "", Some(0)));
    Ok(response)
}

/// `GET /dashboard/login/{token}`: a one-time link signs in once, within 15 minutes.
pub(crate) async fn follow_link(
    State(state): State<AppState>,
    Extension(nonce): Extension<CspNonce>,
    Path(token): Path<String>,
) -> Response {
    let frame = || Frame::new(&state, &nonce, None, Section::None);
    let gone = || {
        let text = "This sign-in link has expired or was used already. Ask for a new one.";
        message(frame(), StatusCode::GONE, "Link no longer valid", text, Some(("/dashboard/login", "Sign in")))
    };
    let (user, made) = match state.store().use_sign_in_link(&token_hash(&token), state.clock().now()).await {
        Ok(Some(LinkHolder::User(user))) => (user, None),
        Ok(Some(LinkHolder::NewSandboxMerchant)) if state.settings().mode == Mode::Sandbox => {
            match new_sandbox_merchant(&state).await {
                Ok((user, made)) => (user, Some(made)),
                Err(error) => return super::pages::failure(frame(), &error),
            }
        }
        Ok(_) => return gone(),
        Err(error) => return super::pages::failure(frame(), &error),
    };
    let signed_in = match open_session(&state, &user, AuditAction::SignIn).await {
        Ok(response) => response,
        Err(error) => return super::pages::failure(frame(), &error),
    };
    let mut response = match made {
        // The merchant's credentials, shown this once: the page waits for the reader.
        Some(made) => html(StatusCode::OK, &MerchantMadePage { frame: frame(), made }),
        // A page that moves on by itself rather than a redirect: a browser that came from
        // a mail or a terminal would not send the new `SameSite=Strict` cookie on a redirect
        // that started elsewhere, but does on a navigation this page starts.
        None => html(
            StatusCode::OK,
            &super::pages::MessagePage {
                frame: frame(),
                heading: "Signed in",
                message: format!("You are signed in as {}.", user.email.as_str()),
                link: Some(("/dashboard", "Continue to the dashboard")),
                refresh_to: Some("/dashboard"),
            },
        ),
    };
    for cookie in signed_in.headers().get_all(header::SET_COOKIE) {
        response.headers_mut().append(header::SET_COOKIE, cookie.clone());
    }
    response
}

/// A merchant made by the sandbox's first link, with its credentials.
struct MadeMerchant {
    id: String,
    name: String,
    api_key: String,
    webhook_secret: String,
}

#[derive(Template)]
#[template(path = "dashboard/merchant_made.html")]
struct MerchantMadePage {
    frame: Frame,
    made: MadeMerchant,
}

/// Makes the sandbox's first merchant (`SANDBOX_MERCHANT_NAME`, sandbox connector) and its
/// first admin, for the link `serve` printed while the database had no merchant.
async fn new_sandbox_merchant(state: &AppState) -> Result<(User, MadeMerchant), gatepost_store::StoreError> {
    let now = state.clock().now();
    let merchant = Merchant {
        id: MerchantId::generate(),
        name: SANDBOX_MERCHANT_NAME.to_owned(),
        default_webhook_url: None,
        webhook_ack_mode: AckMode::Status,
        allowed_return_hosts: Vec::new(),
        connector: "sandbox".to_owned(),
        created_at: now,
    };
    let (new, api_key) = NewMerchant::with_new_credentials(merchant, false);
    let made = MadeMerchant {
        id: new.merchant.id.to_string(),
        name: new.merchant.name.clone(),
        api_key: api_key.expose().to_owned(),
        webhook_secret: new.webhook_secret.expose(),
    };
    let admin = User::first_admin(&new.merchant.id, now);
    state.store().create_merchant(new).await?;
    if let Err(refusal) = state.store().create_user(&admin, None).await? {
        return Err(gatepost_store::StoreError::Corrupt(format!("a new merchant's first admin: {refusal:?}")));
    }
    tracing::info!(merchant = %made.id, "sandbox merchant made by the first sign-in link");
    Ok((admin, made))
}

/// `POST /dashboard/logout`: ends the session on the server, whatever the browser keeps.
pub(crate) async fn sign_out(State(state): State<AppState>, form: PostedForm) -> Response {
    let frame = || Frame::new(&state, &form.nonce, None, Section::None);
    if let Err(error) = state.store().end_session(&form.viewer.session_hash).await {
        return super::pages::failure(frame(), &error);
    }
    super::record(&state, &form.viewer.user, AuditAction::SignOut, None, None).await;
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/dashboard/login")]).into_response();
    response.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", Some(0)));
    response
}
