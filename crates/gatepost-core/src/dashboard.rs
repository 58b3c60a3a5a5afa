//! The rules of the dashboard's users (docs/reference/dashboard.md): who they are, what
//! each role may do, how long a session and a sign-in link live, when sign-in is
//! throttled, and how a password is kept (Argon2id).

use crate::ids::{MerchantId, UserId};
use crate::time::Timestamp;
use serde::Serialize;
use std::time::Duration;

/// What a user may do: a viewer reads everything; an admin also acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, strum::IntoStaticStr, strum::VariantArray)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    Admin,
    Viewer,
}

impl Role {
    #[must_use]
    pub fn may_act(self) -> bool {
        self == Self::Admin
    }
}

/// A person who signs in to one merchant's dashboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub merchant_id: MerchantId,
    pub email: Email,
    pub role: Role,
    pub created_at: Timestamp,
}

impl User {
    /// The first admin that `merchant create`, `dashboard-link` and the sandbox's first
    /// sign-in make for a merchant without users: signs in by links until given a password.
    #[must_use]
    pub fn first_admin(merchant: &MerchantId, now: Timestamp) -> Self {
        Self {
            id: UserId::generate(),
            merchant_id: merchant.clone(),
            email: Email::first_admin_of(merchant),
            role: Role::Admin,
            created_at: now,
        }
    }
}

/// The name of the merchant that the sandbox's first sign-in makes.
pub const SANDBOX_MERCHANT_NAME: &str = "My Shop";

/// An e-mail address as a user's name: trimmed and lowercased, so that `Ana@Shop.example`
/// and `ana@shop.example` are one user, and at most 254 bytes (RFC 5321's path limit).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub const MAX_BYTES: usize = 254;

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().to_lowercase();
        (text.len() <= Self::MAX_BYTES && crate::text::is_email(&text) && !text.contains(char::is_whitespace))
            .then_some(Self(text))
    }

    /// The address of the first admin that `merchant create` and `dashboard-link` make for a
    /// merchant without users: unique, and in the `.invalid` domain, which no mail reaches.
    #[must_use]
    pub fn first_admin_of(merchant: &MerchantId) -> Self {
        Self(format!("admin+{}@gatepost.invalid", merchant.as_str().to_lowercase()))
    }

    #[must_use]
    pub fn from_trusted(text: String) -> Self {
        Self(text)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How a session cookie or a sign-in link's token is stored: its SHA-256 in hex. Tokens
/// carry 256 random bits, so a fast hash is enough, and a copy of the database signs
/// nobody in.
#[must_use]
pub fn token_hash(token: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(token.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A new session cookie or sign-in link token: 32 random bytes, URL-safe.
#[must_use]
pub fn new_token() -> String {
    crate::ids::random_token(32)
}

/// A session ends after this long without a request.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 60 * 60);

/// A session's last request is written at most this often, so that reading pages does not
/// write on every request; the idle limit is exact to within it.
pub const SESSION_TOUCH_EVERY: Duration = Duration::from_secs(60);

/// A one-time sign-in link works once, within this long of being made.
pub const SIGN_IN_LINK_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Failed sign-ins are counted over this window (docs/reference/limits.md#sign-in).
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures for one e-mail address within the window after which sign-in is refused.
pub const SIGN_IN_FAILURES_PER_EMAIL: u64 = 5;
/// Failures from one client address within the window after which sign-in is refused.
pub const SIGN_IN_FAILURES_PER_ADDRESS: u64 = 20;

/// Whether a sign-in is refused (`429`) before its password is even checked, from the
/// failures counted within [`SIGN_IN_WINDOW`] for its e-mail address and its client address.
#[must_use]
pub fn sign_in_throttled(email_failures: u64, address_failures: u64) -> bool {
    email_failures >= SIGN_IN_FAILURES_PER_EMAIL || address_failures >= SIGN_IN_FAILURES_PER_ADDRESS
}

/// A signed-in browser, as the server keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub user: User,
    /// The token every form of this session carries (`csrf_token`).
    pub csrf_token: String,
    pub last_seen_at: Timestamp,
}

impl Session {
    /// Whether the session is still open at `now`.
    #[must_use]
    pub fn is_live(&self, now: Timestamp) -> bool {
        now.since(self.last_seen_at) < SESSION_IDLE
    }

    /// Whether this request should write `now` as the session's last request.
    #[must_use]
    pub fn needs_touch(&self, now: Timestamp) -> bool {
        now.since(self.last_seen_at) >= SESSION_TOUCH_EVERY
    }
}

/// Passwords are at least this many characters…
pub const MIN_PASSWORD_CHARS: usize = 10;
/// …and at most this many bytes, so that hashing one costs a bounded time.
pub const MAX_PASSWORD_BYTES: usize = 256;

/// Why a password was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("a password has at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("a password has at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
}

/// A password's Argon2id hash in PHC form (`$argon2id$v=19$…`), with its own salt and
/// parameters: only this is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(…)")
    }
}

impl PasswordHash {
    /// Hashes a new password with Argon2id's default parameters (19 MiB, 2 passes: OWASP's
    /// recommendation) and a random 16-byte salt. Tens of milliseconds: call it off the
    /// request threads.
    pub fn of(password: &str) -> Result<Self, PasswordError> {
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(PasswordError::TooShort);
        }
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(PasswordError::TooLong);
        }
        use argon2::password_hash::PasswordHasher as _;
        let hash = argon2::Argon2::default()
            .hash_password_with_salt(password.as_bytes(), &crate::ids::random_bytes(16))
            .expect("default Argon2 parameters and a 16-byte salt are valid");
        Ok(Self(hash.to_string()))
    }

    /// Whether `password` is the one this hash was made from. A hash that does not parse
    /// matches nothing.
    #[must_use]
    pub fn verify(&self, password: &str) -> bool {
        use argon2::password_hash::PasswordVerifier as _;
        if password.len() > MAX_PASSWORD_BYTES {
            return false;
        }
        argon2::password_hash::phc::PasswordHash::new(&self.0)
            .is_ok_and(|hash| argon2::Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
    }

    /// A hash that no password matches but that costs as much to check: what a sign-in
    /// with an unknown e-mail is checked against, so that its answer takes as long as a
    /// wrong password's and says nothing about which addresses exist.
    #[must_use]
    pub fn decoy() -> &'static Self {
        static DECOY: std::sync::LazyLock<PasswordHash> = std::sync::LazyLock::new(|| {
            PasswordHash::of(&crate::ids::random_token(24)).expect("a random token is a valid password")
        });
        &DECOY
    }

    #[must_use]
    pub fn from_trusted(phc: String) -> Self {
        Self(phc)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the dashboard's audit log records (docs/reference/dashboard.md#audit-log).
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum AuditAction {
    SignIn,
    SignOut,
    PaymentCaptured,
    PaymentCancelled,
    PaymentRefunded,
    PaymentLinkCreated,
    EventResent,
    EndpointCreated,
    EndpointUpdated,
    EndpointDeleted,
    EndpointSecretRotated,
    EndpointTested,
    EndpointRecovered,
    ApiKeyCreated,
    ApiKeyRevoked,
    SettingsUpdated,
    UserInvited,
    UserRemoved,
    PasswordSet,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::Named as _;

    #[test]
    fn an_email_is_trimmed_and_lowercased_or_refused() {
        assert_eq!(Email::parse("  Ana@Shop.Example ").unwrap().as_str(), "ana@shop.example");
        for bad in ["", "ana", "ana@shop", "@shop.example", "a b@shop.example", "ana@shop.example\u{0}", "a@b@c.d"] {
            assert_eq!(Email::parse(bad), None, "{bad:?}");
        }
        let long = format!("{}@shop.example", "a".repeat(Email::MAX_BYTES));
        assert_eq!(Email::parse(&long), None);
        let first = Email::first_admin_of(&MerchantId::from_trusted("mer_01ABC".into()));
        assert_eq!(Email::parse(first.as_str()), Some(first));
    }

    #[test]
    fn only_an_admin_acts() {
        assert!(Role::Admin.may_act());
        assert!(!Role::Viewer.may_act());
        assert_eq!(Role::parse("viewer"), Some(Role::Viewer));
        assert_eq!(Role::parse("owner"), None);
    }

    #[test]
    fn sign_in_is_throttled_at_five_failures_per_email_or_twenty_per_address() {
        assert!(!sign_in_throttled(4, 19));
        assert!(sign_in_throttled(5, 0));
        assert!(sign_in_throttled(0, 20));
    }

    #[test]
    fn a_session_ends_after_twelve_idle_hours() {
        let start = Timestamp::from_millis(1_000_000);
        let user = User {
            id: UserId::generate(),
            merchant_id: MerchantId::generate(),
            email: Email::parse("ana@shop.example").unwrap(),
            role: Role::Viewer,
            created_at: start,
        };
        let session = Session { user, csrf_token: "t".into(), last_seen_at: start };
        assert!(session.is_live(start.plus(SESSION_IDLE).plus_millis(-1)));
        assert!(!session.is_live(start.plus(SESSION_IDLE)));
        assert!(!session.needs_touch(start.plus_seconds(59)));
        assert!(session.needs_touch(start.plus_seconds(60)));
    }

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = PasswordHash::of("correct horse battery").unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$"));
        assert!(hash.verify("correct horse battery"));
        assert!(!hash.verify("correct horse batterY"));
        assert!(!PasswordHash::decoy().verify("correct horse battery"));
        assert!(!PasswordHash::from_trusted("not a hash".into()).verify("anything at all"));
        assert_ne!(PasswordHash::of("correct horse battery").unwrap(), hash, "each hash has its own salt");
        assert_eq!(PasswordHash::of("short").unwrap_err(), PasswordError::TooShort);
        assert_eq!(PasswordHash::of(&"x".repeat(MAX_PASSWORD_BYTES + 1)).unwrap_err(), PasswordError::TooLong);
        assert_eq!(format!("{hash:?}"), "PasswordHash(…)");
    }
}
