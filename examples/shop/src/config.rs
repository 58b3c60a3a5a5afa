//! The shop's configuration: environment variables only
//! (docs/reference/merchant-kit.md#shop-configuration), each parsed at start, so that a
//! mistake stops the shop with one line naming the variable rather than surfacing later as
//! a refused webhook or a failed payment.

use gatepost_merchant::{Client, ReturnVerifier, Webhook};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything the shop is configured with, already parsed: once there is a `Config`, the
/// gateway's URL, the API key's shape and the webhook secret are known to be usable.
#[derive(Debug)]
pub struct Config {
    /// `SHOP_LISTEN`, default `127.0.0.1:3000`.
    pub listen: SocketAddr,
    /// `SHOP_PUBLIC_URL`: where shoppers' browsers and the gateway reach the shop, the base
    /// of the return and webhook URLs. `None` means `http://<the address bound>`.
    pub public_url: Option<String>,
    /// `GATEPOST_URL`, default `http://127.0.0.1:8080` (where `gatepost serve` listens).
    pub gatepost_url: String,
    /// The API client for `GATEPOST_URL` with `GATEPOST_API_KEY`.
    pub gatepost: Client,
    /// `GATEPOST_WEBHOOK_SECRET`, for webhooks.
    pub webhook: Webhook,
    /// The same secret, for return redirects.
    pub returns: ReturnVerifier,
    /// `SHOP_DATABASE`, the SQLite file, default `shop.db`.
    pub database: PathBuf,
}

/// A variable that is missing or unusable.
#[derive(Debug, thiserror::Error)]
#[error("{variable} {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self { variable, problem: problem.into() }
    }
}

impl Config {
    /// Reads the process's environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Reads the variables from `var`; an empty value counts as unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| var(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());

        let listen = match var("SHOP_LISTEN") {
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
            Some(value) => value.parse().map_err(|_| {
                ConfigError::new("SHOP_LISTEN", format!("is not an address such as 127.0.0.1:3000: {value:?}"))
            })?,
        };
        let public_url = var("SHOP_PUBLIC_URL").map(|url| base_url("SHOP_PUBLIC_URL", &url)).transpose()?;
        let gatepost_url = base_url("GATEPOST_URL", &var("GATEPOST_URL").unwrap_or("http://127.0.0.1:8080".into()))?;

        let api_key = var("GATEPOST_API_KEY").ok_or_else(|| {
            ConfigError::new("GATEPOST_API_KEY", "is not set: use the API key `gatepost merchant create` printed")
        })?;
        // A webhook secret or a merchant id pasted here would only fail at the first order.
        if !api_key.starts_with("sk_") {
            return Err(ConfigError::new(
                "GATEPOST_API_KEY",
                "is not a secret key: it starts with sk_test_ or sk_live_",
            ));
        }
        let gatepost = Client::new(&gatepost_url, &api_key)
            .map_err(|error| ConfigError::new("GATEPOST_URL", format!("is not usable: {error}")))?;

        let secret = var("GATEPOST_WEBHOOK_SECRET").ok_or_else(|| {
            ConfigError::new("GATEPOST_WEBHOOK_SECRET", "is not set: use the secret `gatepost merchant create` printed")
        })?;
        let webhook = Webhook::new(&secret)
            .map_err(|error| ConfigError::new("GATEPOST_WEBHOOK_SECRET", format!("is wrong: {error}")))?;
        let returns = ReturnVerifier::new(&secret)
            .map_err(|error| ConfigError::new("GATEPOST_WEBHOOK_SECRET", format!("is wrong: {error}")))?;

        let database = PathBuf::from(var("SHOP_DATABASE").unwrap_or("shop.db".into()));
        Ok(Self { listen, public_url, gatepost_url, gatepost, webhook, returns, database })
    }
}

/// An `http` or `https` URL without a trailing `/`, so that paths can be appended to it.
fn base_url(variable: &'static str, url: &str) -> Result<String, ConfigError> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(ConfigError::new(
            variable,
            format!("is not an absolute URL such as http://127.0.0.1:3000: {url:?}"),
        ));
    };
    if !matches!(scheme, "http" | "https") || rest.is_empty() || url.contains(['?', '#']) {
        return Err(ConfigError::new(variable, format!("is not an http or https base URL: {url:?}")));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn only_the_key_and_the_secret_are_required() {
        let config = load(&[("GATEPOST_API_KEY", "sk_test_1"), ("GATEPOST_WEBHOOK_SECRET", SECRET)]).unwrap();

        assert_eq!(config.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(config.public_url, None);
        assert_eq!(config.gatepost_url, "http://127.0.0.1:8080");
        assert_eq!(config.database, PathBuf::from("shop.db"));
    }

    #[test]
    fn urls_lose_their_trailing_slash() {
        let config = load(&[
            ("GATEPOST_API_KEY", "sk_test_1"),
            ("GATEPOST_WEBHOOK_SECRET", SECRET),
            ("SHOP_PUBLIC_URL", "https://shop.example/"),
            ("GATEPOST_URL", "http://127.0.0.1:9000/"),
        ])
        .unwrap();

        assert_eq!(config.public_url.as_deref(), Some("https://shop.example"));
        assert_eq!(config.gatepost_url, "http://127.0.0.1:9000");
    }

    #[test]
    fn each_mistake_names_its_variable() {
        let cases: [(&[(&str, &str)], &str); 6] = [
            (&[("GATEPOST_WEBHOOK_SECRET", SECRET)], "GATEPOST_API_KEY"),
            (&[("GATEPOST_API_KEY", SECRET), ("GATEPOST_WEBHOOK_SECRET", SECRET)], "GATEPOST_API_KEY"),
            (&[("GATEPOST_API_KEY", "sk_test_1")], "GATEPOST_WEBHOOK_SECRET"),
            (&[("GATEPOST_API_KEY", "sk_test_1"), ("GATEPOST_WEBHOOK_SECRET", "sk_test_1")], "GATEPOST_WEBHOOK_SECRET"),
            (
                &[("GATEPOST_API_KEY", "sk_test_1"), ("GATEPOST_WEBHOOK_SECRET", SECRET), ("SHOP_LISTEN", "3000")],
                "SHOP_LISTEN",
            ),
            (
                &[("GATEPOST_API_KEY", "sk_test_1"), ("GATEPOST_WEBHOOK_SECRET", SECRET), ("GATEPOST_URL", "gatepost")],
                "GATEPOST_URL",
            ),
        ];
        for (vars, variable) in cases {
            let error = load(vars).unwrap_err();
            assert_eq!(error.variable, variable, "{vars:?}");
            assert!(error.to_string().starts_with(&format!("{variable} ")), "{error}");
            assert!(!error.to_string().contains('\n'), "one line: {error}");
        }
    }
}
