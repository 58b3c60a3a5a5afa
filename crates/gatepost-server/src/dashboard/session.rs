//! Who is signed in: the `gatepost_session` cookie names a session the server keeps
//! (docs/reference/dashboard.md#sessions). Pages take a [`Viewer`]; forms take a
//! [`PostedForm`], which also checks the session's `csrf_token`, and actions an
//! [`AdminForm`], which also checks the role.

use super::pages::{Frame, Section, forbidden};
use super::sign_in::SESSION_COOKIE;
use crate::AppState;
use crate::hpp::CspNonce;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
pub(crate) use gatepost_core::dashboard::token_hash;
use gatepost_core::dashboard::{Role, User};
use std::collections::HashMap;

/// The signed-in user, as every page shows them. Its `Debug` leaves out the session's
/// secrets.
#[derive(Clone)]
pub(crate) struct Viewer {
    pub(crate) user: User,
    pub(crate) email: String,
    pub(crate) role: &'static str,
    /// The merchant's name.
    pub(crate) merchant: String,
    pub(crate) csrf_token: String,
    /// The SHA-256 of the session cookie, which names the session in the store.
    pub(crate) session_hash: String,
}

impl std::fmt::Debug for Viewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Viewer").field("user", &self.user.id).field("role", &self.role).finish_non_exhaustive()
    }
}

impl Viewer {
    pub(crate) fn may_act(&self) -> bool {
        self.user.role.may_act()
    }
}

/// The value of cookie `name`, if the request carries it.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(key, value)| (key == name).then_some(value))
}

/// Whether two secrets are equal, in a time that does not depend on where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(crate) fn nonce_of(parts: &Parts) -> CspNonce {
    parts.extensions.get::<CspNonce>().cloned().expect("security_headers sets the nonce")
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let nonce = nonce_of(parts);
        let signed_out = |state: &AppState| {
            if parts.method == Method::GET || parts.method == Method::HEAD {
                (StatusCode::SEE_OTHER, [(header::LOCATION, "/dashboard/login")]).into_response()
            } else {
                forbidden(Frame::new(state, &nonce, None, Section::None), "Your session has ended. Sign in again.")
            }
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(signed_out(state)) };
        let hash = token_hash(token);
        let now = state.clock().now();
        let failed = |error: &dyn std::fmt::Display| {
            super::pages::failure(Frame::new(state, &nonce, None, Section::None), error)
        };
        let session = match state.store().session(&hash).await {
            Ok(Some(session)) if session.is_live(now) => session,
            Ok(_) => return Err(signed_out(state)),
            Err(error) => return Err(failed(&error)),
        };
        if session.needs_touch(now) {
            state.store().touch_session(&hash, now).await.map_err(|error| failed(&error))?;
        }
        let merchant = match state.store().merchant(&session.user.merchant_id).await {
            Ok(Some(merchant)) => merchant.name,
            Ok(None) => return Err(signed_out(state)),
            Err(error) => return Err(failed(&error)),
        };
        let user = session.user;
        Ok(Self {
            email: user.email.as_str().to_owned(),
            role: gatepost_core::names::Named::as_str(user.role),
            user,
            merchant,
            csrf_token: session.csrf_token,
            session_hash: hash,
        })
    }
}

/// A dashboard form is small; a larger body is not one of them.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The fields of a form, each with its values in order, read whole (at most
/// [`MAX_FORM_BYTES`]). Its `Debug` shows the names only: values can be passwords.
#[derive(Default)]
pub(crate) struct Fields(HashMap<String, Vec<String>>);

impl std::fmt::Debug for Fields {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Fields {
    pub(crate) fn parse(body: &[u8]) -> Self {
        let mut fields: HashMap<String, Vec<String>> = HashMap::new();
        for (name, value) in url::form_urlencoded::parse(body) {
            fields.entry(name.into_owned()).or_default().push(value.into_owned());
        }
        Self(fields)
    }

    /// The field's first value; empty when the form has none.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0.get(name).and_then(|values| values.first()).map_or("", String::as_str)
    }

    /// Every value of a field that a form repeats (checkboxes of one name).
    pub(crate) fn all(&self, name: &str) -> &[String] {
        self.0.get(name).map_or(&[], Vec::as_slice)
    }

    /// Reads the body of a form post, answering one that is too large or never arrives
    /// whole with a page.
    pub(crate) async fn read(request: Request, frame: impl FnOnce() -> Frame) -> Result<Self, Response> {
        match axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await {
            Ok(body) => Ok(Self::parse(&body)),
            Err(error) => {
                let status = if crate::body_deadline::timed_out(&error) {
                    StatusCode::REQUEST_TIMEOUT
                } else if std::error::Error::source(&error)
                    .is_some_and(|source| source.is::<http_body_util::LengthLimitError>())
                {
                    StatusCode::PAYLOAD_TOO_LARGE
                } else {
                    StatusCode::BAD_REQUEST
                };
                let text = "The form did not arrive whole. Go back and try again.";
                Err(super::pages::message(frame(), status, "Form not received", text, None))
            }
        }
    }
}

/// A form posted by a signed-in user, with the session's `csrf_token`: anything else is
/// `403` and changes nothing.
#[derive(Debug)]
pub(crate) struct PostedForm {
    pub(crate) viewer: Viewer,
    pub(crate) fields: Fields,
    pub(crate) nonce: CspNonce,
    /// The path it was posted to: what it acts on.
    pub(crate) path: String,
}

impl FromRequest<AppState> for PostedForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let viewer = Viewer::from_request_parts(&mut parts, state).await?;
        let nonce = nonce_of(&parts);
        let path = parts.uri.path().to_owned();
        let frame = || Frame::new(state, &nonce, Some(viewer.clone()), Section::None);
        let fields = Fields::read(Request::from_parts(parts, body), frame).await?;
        if !same_secret(fields.get("csrf_token"), &viewer.csrf_token) {
            return Err(forbidden(frame(), "This form has expired. Go back, reload the page and try again."));
        }
        Ok(Self { viewer, fields, nonce, path })
    }
}

/// A [`PostedForm`] that acts: only an admin may send one; a viewer's is `403`.
#[derive(Debug)]
pub(crate) struct AdminForm(pub(crate) PostedForm);

impl FromRequest<AppState> for AdminForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let form = PostedForm::from_request(request, state).await?;
        if form.viewer.user.role != Role::Admin {
            let frame = Frame::new(state, &form.nonce, Some(form.viewer), Section::None);
            return Err(forbidden(frame, "Only an admin may do this. Your role is viewer."));
        }
        Ok(Self(form))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_among_others_by_its_exact_name() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "a=1; gatepost_session_x=2".parse().unwrap());
        headers.append(header::COOKIE, "gatepost_session=abc".parse().unwrap());
        assert_eq!(cookie(&headers, "gatepost_session"), Some("abc"));
        assert_eq!(cookie(&headers, "b"), None);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert!(!same_secret("", "a"));
    }
}
