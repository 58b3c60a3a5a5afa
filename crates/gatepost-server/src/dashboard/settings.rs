//! `/dashboard/settings`: the merchant's settings, its team, and the audit log
//! (docs/reference/dashboard.md#settings). Settings change by the API's own rules
//! (`api::merchant::apply_patch`); admins invite and remove users.

use super::once::{Done, Refused, confirmed, once};
use super::pages::{Frame, Section, html, when};
use super::session::{AdminForm, Viewer};
use crate::AppState;
use crate::api::merchant::{MerchantPatch, apply_patch};
use crate::hpp::CspNonce;
use askama::Template;
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use gatepost_core::dashboard::{
    AuditAction, Email, PasswordHash, Role, SIGN_IN_LINK_LIFETIME, User, new_token, token_hash,
};
use gatepost_core::ids::{AuditId, UserId};
use gatepost_core::names::Named as _;
use gatepost_core::payment::AckMode;
use gatepost_store::UserRefusal;

/// Audit entries on one page.
const AUDIT_PAGE: u32 = 50;

struct UserRow {
    id: String,
    email: String,
    role: &'static str,
    created: String,
    is_me: bool,
}

struct AuditRow {
    at: String,
    who: String,
    action: &'static str,
    object: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "dashboard/settings.html")]
struct SettingsPage {
    frame: Frame,
    may_act: bool,
    name: String,
    merchant_id: String,
    default_webhook_url: String,
    ack_mode: &'static str,
    ack_modes: Vec<&'static str>,
    allowed_return_hosts: String,
    connector: String,
    connectors: Vec<&'static str>,
    users: Vec<UserRow>,
    roles: Vec<&'static str>,
    audit: Vec<AuditRow>,
    audit_next: Option<String>,
    idempotency_key: String,
    notice: Option<String>,
    /// A one-time sign-in link just made for an invited user: shown this once.
    invite: Option<(String, String)>,
    /// The signed-in user's address, which their password goes with.
    my_email: String,
}

async fn page(
    state: &AppState,
    nonce: &CspNonce,
    viewer: Viewer,
    raw: Option<&str>,
    invite: Option<(String, String)>,
) -> Response {
    let merchant_id = viewer.user.merchant_id.clone();
    let me = viewer.user.id.clone();
    let my_email = viewer.email.clone();
    let may_act = viewer.may_act();
    let frame = Frame::new(state, nonce, Some(viewer), Section::Settings);
    let mut before = None;
    let mut notice = None;
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match name.as_ref() {
            "audit_before" => before = AuditId::parse(&value),
            "done" => {
                notice = match value.as_ref() {
                    "saved" => Some("Settings saved."),
                    "removed" => Some("User removed: their sessions have ended."),
                    "password" => Some("Password saved: sign in with it and your e-mail address."),
                    _ => None,
                }
            }
            _ => {}
        }
    }
    let store = state.store();
    let (merchant, users, audit) = match tokio::try_join!(
        store.merchant(&merchant_id),
        store.users(&merchant_id),
        store.audit_log(&merchant_id, before.as_ref(), AUDIT_PAGE),
    ) {
        Ok((Some(merchant), users, audit)) => (merchant, users, audit),
        Ok((None, ..)) => return super::pages::not_found(frame, "merchant"),
        Err(error) => return super::pages::failure(frame, &error),
    };
    let audit_next = audit.has_more.then(|| audit.data.last().map(|e| e.id.to_string())).flatten();
    let page = SettingsPage {
        frame,
        may_act,
        name: merchant.name.clone(),
        merchant_id: merchant.id.to_string(),
        default_webhook_url: merchant.default_webhook_url.as_ref().map(|u| u.as_str().to_owned()).unwrap_or_default(),
        ack_mode: merchant.webhook_ack_mode.as_str(),
        ack_modes: AckMode::ALL.iter().map(|m| m.as_str()).collect(),
        allowed_return_hosts: merchant.allowed_return_hosts.join("\n"),
        connector: merchant.connector.clone(),
        connectors: state.connectors().names(),
        users: users
            .iter()
            .map(|u| UserRow {
                id: u.id.to_string(),
                email: u.email.as_str().to_owned(),
                role: u.role.as_str(),
                created: when(u.created_at),
                is_me: u.id == me,
            })
            .collect(),
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        audit: audit
            .data
            .iter()
            .map(|e| AuditRow {
                at: when(e.at),
                who: e.user_email.clone(),
                action: e.action.as_str(),
                object: e.object_id.clone().unwrap_or_default(),
                detail: e.detail.clone().unwrap_or_default(),
            })
            .collect(),
        audit_next,
        idempotency_key: gatepost_core::ids::random_token(16),
        notice: notice.map(str::to_owned),
        invite,
        my_email,
    };
    html(StatusCode::OK, &page)
}

pub(crate) async fn show(
    State(state): State<AppState>,
    Extension(nonce): Extension<CspNonce>,
    viewer: Viewer,
    RawQuery(raw): RawQuery,
) -> Response {
    page(&state, &nonce, viewer, raw.as_deref(), None).await
}

fn failed(error: &dyn std::fmt::Display) -> Refused {
    tracing::error!(%error, "settings change failed");
    (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong; nothing changed. Try again.".to_owned())
}

/// `POST /dashboard/settings`: the merchant's settings, as `PATCH /v1/merchant` takes them.
pub(crate) async fn save(State(state): State<AppState>, AdminForm(form): AdminForm) -> Response {
    let work = || async {
        let merchant_id = &form.viewer.user.merchant_id;
        let mut merchant = match state.store().merchant(merchant_id).await {
            Ok(Some(merchant)) => merchant,
            Ok(None) => return Err((StatusCode::NOT_FOUND, "This merchant no longer exists.".to_owned())),
            Err(error) => return Err(failed(&error)),
        };
        let url = form.fields.get("default_webhook_url").trim();
        let hosts = form.fields.get("allowed_return_hosts");
        let patch = MerchantPatch {
            default_webhook_url: Some((!url.is_empty()).then(|| url.to_owned())),
            webhook_ack_mode: Some(form.fields.get("webhook_ack_mode").to_owned()),
            allowed_return_hosts: Some(
                hosts
                    .split([',', '\n', '\r', ' '])
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .map(str::to_owned)
                    .collect(),
            ),
            connector: Some(form.fields.get("connector").to_owned()),
        };
        let errors = apply_patch(&state, &mut merchant, patch);
        if !errors.is_empty() {
            let text = errors.iter().map(|e| format!("{}: {}", e.param, e.detail)).collect::<Vec<_>>().join("; ");
            return Err((StatusCode::UNPROCESSABLE_ENTITY, format!("Not saved. {text}.")));
        }
        match state.store().update_merchant(&merchant, state.clock().now()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => {
                let text = "The merchant has 16 webhook endpoints already; remove one to set a default URL.";
                return Err((StatusCode::UNPROCESSABLE_ENTITY, text.to_owned()));
            }
            Err(error) => return Err(failed(&error)),
        }
        state.forget_merchant(&merchant.id);
        Ok(Done {
            action: AuditAction::SettingsUpdated,
            object_id: Some(merchant.id.to_string()),
            detail: None,
            then: "/dashboard/settings?done=saved".to_owned(),
            shown: None,
        })
    };
    once(
        &state,
        &form,
        Section::Settings,
        &["default_webhook_url", "webhook_ack_mode", "allowed_return_hosts", "connector"],
        work,
    )
    .await
}

/// `POST /dashboard/settings/password`: the signed-in user's own password, typed twice,
/// after the current one if they have one (so that a borrowed session cannot take the
/// account over). Any user may set their own; it is what the sign-in form checks.
pub(crate) async fn set_password(State(state): State<AppState>, form: super::session::PostedForm) -> Response {
    let viewer = &form.viewer;
    let frame = || Frame::new(&state, &form.nonce, Some(viewer.clone()), Section::Settings);
    let refuse = |(status, text): Refused| super::pages::message(frame(), status, "Not saved", text, None);
    let (password, again) = (form.fields.get("new_password").to_owned(), form.fields.get("repeat_password"));
    if password != again {
        return refuse((StatusCode::UNPROCESSABLE_ENTITY, "The two new passwords differ.".to_owned()));
    }
    let current = match state.store().user_by_email(&viewer.user.email).await {
        Ok(found) => found.and_then(|(_, hash)| hash),
        Err(error) => return refuse(failed(&error)),
    };
    if let Some(current) = current {
        // A wrong current password is a failed sign-in, throttled alike.
        let attempt = match super::sign_in::Attempt::reserve(&state, Some(&viewer.user.email), None).await {
            Ok(Some(attempt)) => attempt,
            Ok(None) => return super::sign_in::throttled(frame()),
            Err(error) => return refuse(failed(&error)),
        };
        if !super::sign_in::password_matches(current, form.fields.get("current_password").to_owned()).await {
            return refuse((StatusCode::UNPROCESSABLE_ENTITY, "The current password is wrong.".to_owned()));
        }
        if let Err(error) = attempt.succeeded(&state).await {
            return refuse(failed(&error));
        }
    }
    let hash = match tokio::task::spawn_blocking(move || PasswordHash::of(&password)).await {
        Ok(Ok(hash)) => hash,
        Ok(Err(error)) => return refuse((StatusCode::UNPROCESSABLE_ENTITY, format!("{error}."))),
        Err(error) => return refuse(failed(&error)),
    };
    // Every other session of the user ends: whoever borrowed one is out.
    if let Err(error) = state.store().set_password(&viewer.user.id, &hash, &viewer.session_hash).await {
        return refuse(failed(&error));
    }
    super::record(&state, &viewer.user, AuditAction::PasswordSet, Some(viewer.user.id.to_string()), None).await;
    // Not run through `once`: its fingerprint would have to keep the password, and setting
    // the same password twice does no harm.
    super::once::see_other("/dashboard/settings?done=password")
}

/// `POST /dashboard/settings/users`: invites a user, who signs in with the one-time link
/// shown on the answer.
pub(crate) async fn invite(State(state): State<AppState>, AdminForm(form): AdminForm) -> Response {
    let work = || async {
        let invalid = |text: &str| (StatusCode::UNPROCESSABLE_ENTITY, text.to_owned());
        let email = Email::parse(form.fields.get("email")).ok_or_else(|| invalid("email: not an e-mail address."))?;
        let role = Role::parse(form.fields.get("role")).ok_or_else(|| invalid("role: admin or viewer."))?;
        let now = state.clock().now();
        let user = User {
            id: UserId::generate(),
            merchant_id: form.viewer.user.merchant_id.clone(),
            email,
            role,
            created_at: now,
        };
        let token = new_token();
        let expires_at = now.plus(SIGN_IN_LINK_LIFETIME);
        // The user and their link are made together: a refused invitation leaves no user.
        match state.store().invite_user(&user, &token_hash(&token), expires_at).await {
            Ok(Ok(())) => {}
            Ok(Err(UserRefusal::EmailTaken)) => return Err(invalid("email: a user with this address exists already.")),
            Err(error) => return Err(failed(&error)),
        }
        let link = format!("{}/dashboard/login/{token}", state.settings().public_url.trim_end_matches('/'));
        let shown =
            page(&state, &form.nonce, form.viewer.clone(), None, Some((user.email.as_str().to_owned(), link))).await;
        Ok(Done {
            action: AuditAction::UserInvited,
            object_id: Some(user.id.to_string()),
            detail: Some(format!("{} ({})", user.email.as_str(), role.as_str())),
            then: "/dashboard/settings".to_owned(),
            shown: Some(shown),
        })
    };
    once(&state, &form, Section::Settings, &["email", "role"], work).await
}

/// `POST /dashboard/settings/users/{id}/remove`: the user and their sessions go. An admin
/// cannot remove themselves, so a merchant is never left without the one who acts.
pub(crate) async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
    AdminForm(form): AdminForm,
) -> Response {
    let work = || async {
        confirmed(&form)?;
        let missing = || (StatusCode::NOT_FOUND, "There is no such user in this dashboard.".to_owned());
        let id = UserId::parse(&id).ok_or_else(missing)?;
        if id == form.viewer.user.id {
            return Err((StatusCode::CONFLICT, "You cannot remove yourself; ask another admin.".to_owned()));
        }
        match state.store().remove_user(&form.viewer.user.merchant_id, &id).await {
            Ok(true) => Ok(Done {
                action: AuditAction::UserRemoved,
                object_id: Some(id.to_string()),
                detail: None,
                then: "/dashboard/settings?done=removed".to_owned(),
                shown: None,
            }),
            Ok(false) => Err(missing()),
            Err(error) => Err(failed(&error)),
        }
    };
    once(&state, &form, Section::Settings, &["confirm"], work).await
}
