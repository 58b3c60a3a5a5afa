//! `gatepost user create|list` and `gatepost dashboard-link` (docs/reference/dashboard.md#users):
//! the dashboard's users, and one-time sign-in links for them.

use gatepost_core::dashboard::{
    Email, PasswordError, PasswordHash, Role, SIGN_IN_LINK_LIFETIME, User, new_token, token_hash,
};
use gatepost_core::ids::{MerchantId, UserId};
use gatepost_core::names::Named as _;
use gatepost_core::time::{Clock as _, SystemClock};
use gatepost_store::{Store, StoreError, UserRefusal};
use serde::Serialize;

/// Why a user or a link was not made.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("--merchant {0} does not exist")]
    NoSuchMerchant(String),
    #[error("--email is not an e-mail address")]
    BadEmail,
    #[error("--role must be admin or viewer")]
    BadRole,
    #[error("a user with this e-mail address exists already")]
    EmailTaken,
    #[error("no user with this e-mail address for this merchant")]
    NoSuchUser,
    #[error("password: {0}")]
    Password(#[from] PasswordError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

async fn merchant(store: &dyn Store, id: &str) -> Result<MerchantId, UserError> {
    let parsed = MerchantId::parse(id).ok_or_else(|| UserError::NoSuchMerchant(id.to_owned()))?;
    match store.merchant(&parsed).await? {
        Some(merchant) => Ok(merchant.id),
        None => Err(UserError::NoSuchMerchant(id.to_owned())),
    }
}

/// Creates a user; with `password`, they can sign in with it, else only by link.
pub async fn create_user(
    store: &dyn Store,
    merchant_id: &str,
    email: &str,
    role: &str,
    password: Option<&str>,
) -> Result<User, UserError> {
    let merchant_id = merchant(store, merchant_id).await?;
    let email = Email::parse(email).ok_or(UserError::BadEmail)?;
    let role = Role::parse(role).ok_or(UserError::BadRole)?;
    let hash = match password {
        Some(password) => {
            let password = password.to_owned();
            let hashed = tokio::task::spawn_blocking(move || PasswordHash::of(&password));
            Some(hashed.await.expect("hashing does not panic")?)
        }
        None => None,
    };
    let user = User { id: UserId::generate(), merchant_id, email, role, created_at: SystemClock.now() };
    match store.create_user(&user, hash.as_ref()).await? {
        Ok(()) => Ok(user),
        Err(UserRefusal::EmailTaken) => Err(UserError::EmailTaken),
    }
}

/// The merchant's first admin, made (without a password) when the merchant has no admin:
/// what `merchant create` and `dashboard-link` sign in without `--email`.
pub async fn first_admin(store: &dyn Store, merchant_id: &MerchantId) -> Result<User, UserError> {
    let users = store.users(merchant_id).await?;
    if let Some(admin) = users.into_iter().find(|user| user.role == Role::Admin) {
        return Ok(admin);
    }
    let user = User::first_admin(merchant_id, SystemClock.now());
    match store.create_user(&user, None).await? {
        Ok(()) => Ok(user),
        Err(UserRefusal::EmailTaken) => Err(UserError::EmailTaken),
    }
}

/// A one-time sign-in URL for `user`: it works once, within 15 minutes.
pub async fn sign_in_link(store: &dyn Store, user: &User, public_url: &str) -> Result<String, UserError> {
    let token = new_token();
    let expires_at = SystemClock.now().plus(SIGN_IN_LINK_LIFETIME);
    store.create_sign_in_link(Some(&user.id), &token_hash(&token), expires_at).await?;
    Ok(format!("{}/dashboard/login/{token}", public_url.trim_end_matches('/')))
}

/// The sandbox's first link, for a database with no merchant: following it makes a merchant
/// and its first admin, and shows the merchant's API key and webhook secret once.
pub async fn sandbox_setup_link(store: &dyn Store, public_url: &str) -> Result<String, UserError> {
    let token = new_token();
    let expires_at = SystemClock.now().plus(SIGN_IN_LINK_LIFETIME);
    store.create_sign_in_link(None, &token_hash(&token), expires_at).await?;
    Ok(format!("{}/dashboard/login/{token}", public_url.trim_end_matches('/')))
}

/// `dashboard-link`: a link for the user with `email`, or for the merchant's first admin.
pub async fn dashboard_link(
    store: &dyn Store,
    merchant_id: &str,
    email: Option<&str>,
    public_url: &str,
) -> Result<String, UserError> {
    let merchant_id = merchant(store, merchant_id).await?;
    let user = match email {
        Some(email) => {
            let email = Email::parse(email).ok_or(UserError::BadEmail)?;
            match store.user_by_email(&email).await? {
                Some((user, _)) if user.merchant_id == merchant_id => user,
                _ => return Err(UserError::NoSuchUser),
            }
        }
        None => first_admin(store, &merchant_id).await?,
    };
    sign_in_link(store, &user, public_url).await
}

/// One user in `user list --json`.
#[derive(Debug, Serialize)]
pub struct UserSummary {
    pub id: String,
    pub email: String,
    pub role: &'static str,
    pub created_at: String,
}

impl From<&User> for UserSummary {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            role: user.role.as_str(),
            created_at: user.created_at.to_rfc3339(),
        }
    }
}

pub async fn list_users(store: &dyn Store, merchant_id: &str) -> Result<Vec<UserSummary>, UserError> {
    let merchant_id = merchant(store, merchant_id).await?;
    Ok(store.users(&merchant_id).await?.iter().map(UserSummary::from).collect())
}
