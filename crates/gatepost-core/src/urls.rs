//! URL rules for return and webhook URLs (docs/reference/urls.md).

use url::Url;

/// The query parameters gatepost appends to a return URL
/// (docs/reference/returns.md#parameters); a merchant URL that already uses one is refused,
/// so the shopper's browser never carries two of them.
pub const RESERVED_RETURN_PARAMS: [&str; 5] =
    ["payment_reference", "payment_status", "merchant_reference", "timestamp", "signature"];

/// Whether the deployment is a sandbox or takes real money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Sandbox,
    Live,
}

/// Why a URL was refused; `code()` is the error detail code (docs/reference/api.md#errors).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("must be an absolute http or https URL")]
    NotAbsoluteHttp,
    #[error("must use https in live mode")]
    HttpsRequired,
    #[error("uses the reserved query parameter `{0}`")]
    ReservedParameter(&'static str),
    #[error("host is not in the merchant's allowed_return_hosts")]
    HostNotAllowed,
    #[error("must not name a port")]
    ExplicitPort,
    #[error("must not contain control characters")]
    ControlCharacter,
    #[error("must be at most 2048 characters")]
    TooLong,
}

impl UrlError {
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotAbsoluteHttp => "invalid_url",
            Self::HttpsRequired => "https_required",
            Self::ReservedParameter(_) => "reserved_parameter",
            Self::HostNotAllowed => "host_not_allowed",
            Self::ExplicitPort => "explicit_port",
            Self::ControlCharacter => "invalid_value",
            Self::TooLong => "too_long",
        }
    }
}

/// The form a merchant's URL must have, as a regular expression that the API reference and
/// the OpenAPI document publish as they are: `http` or `https`, a host name (whose last
/// label has a letter) or an IPv4 address, an optional port, and a path, query and fragment
/// of RFC 3986 characters. Nothing a URL parser would have to repair or guess at.
pub const URL_PATTERN: &str = concat!(
    r"^https?://",
    r"(([A-Za-z0-9-]+\.)*[A-Za-z0-9-]*[A-Za-z][A-Za-z0-9-]*",
    r"|((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9]))",
    r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?",
    r"(/([A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*)?",
    r"(\?([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?",
    r"(#([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$",
);

static URL_FORM: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(URL_PATTERN).expect("the URL pattern compiles"));

/// Parses an absolute http(s) URL of the form [`URL_PATTERN`]. What is kept is the URL as
/// it parsed (`HTTP://Shop.Example` becomes `http://shop.example/`), which every browser
/// and client reads the same way.
fn parse_http(raw: &str) -> Result<Url, UrlError> {
    if raw.len() > MAX_URL_BYTES {
        return Err(UrlError::TooLong);
    }
    if !crate::text::is_clean(raw, false) {
        return Err(UrlError::ControlCharacter);
    }
    if !URL_FORM.is_match(raw) {
        return Err(UrlError::NotAbsoluteHttp);
    }
    let url = Url::parse(raw).map_err(|_| UrlError::NotAbsoluteHttp)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NotAbsoluteHttp);
    }
    Ok(url)
}

/// What every browser and HTTP client takes; longer URLs are refused before they are parsed.
/// The limit is on the URL as sent (the published schema's `maxLength`): the form kept can be
/// a few bytes longer, as parsing adds a `/` after a bare host and writes `'` in a query as
/// `%27`.
pub const MAX_URL_BYTES: usize = 2048;

fn is_local_host(url: &Url) -> bool {
    matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

/// Where the shopper's browser is sent back to (docs/reference/urls.md#return-urls).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnUrl(String);

impl ReturnUrl {
    /// Absolute http(s); https in live mode except for the developer's own machine; no
    /// reserved parameter; host in `allowed_hosts` when the merchant set that list.
    pub fn parse(raw: &str, mode: Mode, allowed_hosts: &[String]) -> Result<Self, UrlError> {
        let url = parse_http(raw)?;
        if mode == Mode::Live && url.scheme() != "https" && !is_local_host(&url) {
            return Err(UrlError::HttpsRequired);
        }
        if let Some(name) = url
            .query_pairs()
            .find_map(|(name, _)| RESERVED_RETURN_PARAMS.into_iter().find(|reserved| *reserved == name))
        {
            return Err(UrlError::ReservedParameter(name));
        }
        if !allowed_hosts.is_empty() {
            let host = url.host_str().unwrap_or_default();
            if !allowed_hosts.iter().any(|allowed| allowed.eq_ignore_ascii_case(host)) {
                return Err(UrlError::HostNotAllowed);
            }
        }
        Ok(Self(url.into()))
    }

    /// Wraps a URL read back from storage, where only parsed URLs are written.
    #[must_use]
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where webhooks for a payment or merchant are sent (docs/reference/urls.md#webhook-urls).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(raw: &str, mode: Mode, forbid_explicit_port: bool) -> Result<Self, UrlError> {
        let url = parse_http(raw)?;
        if mode == Mode::Live && url.scheme() != "https" {
            return Err(UrlError::HttpsRequired);
        }
        if forbid_explicit_port && url.port().is_some() {
            return Err(UrlError::ExplicitPort);
        }
        Ok(Self(url.into()))
    }

    #[must_use]
    pub fn from_trusted(raw: String) -> Self {
        Self(raw)
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where the URL's webhooks go, as the prefix up to its path: `https://hooks.example/`
    /// or `http://127.0.0.1:8000/`. Attempts in flight are capped per origin
    /// (docs/reference/webhooks.md#fairness).
    #[must_use]
    pub fn origin(&self) -> &str {
        origin_of(&self.0).unwrap_or(&self.0)
    }
}

/// The origin prefix of a URL as gatepost stores it (parsed, so its scheme and host are
/// lowercase, a default port is left out and a path follows the host): everything up to and
/// with the first `/` after `scheme://`. `None` for text of another form.
#[must_use]
pub fn origin_of(url: &str) -> Option<&str> {
    let after_scheme = url.find("://")? + 3;
    let slash = after_scheme + url[after_scheme..].find('/')?;
    (slash > after_scheme).then(|| &url[..=slash])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn return_url(raw: &str, mode: Mode) -> Result<ReturnUrl, UrlError> {
        ReturnUrl::parse(raw, mode, &[])
    }

    #[test]
    fn a_webhook_urls_origin_is_its_scheme_host_and_port() {
        let origin = |raw: &str| WebhookUrl::parse(raw, Mode::Sandbox, false).unwrap().origin().to_owned();
        assert_eq!(origin("https://Hooks.Example"), "https://hooks.example/");
        assert_eq!(origin("https://hooks.example:443/a/b?c=/d"), "https://hooks.example/");
        assert_eq!(origin("http://127.0.0.1:8000/x"), "http://127.0.0.1:8000/");
        assert_eq!(origin_of("nonsense"), None);
        assert_eq!(origin_of("https:///x"), None);
    }

    #[test]
    fn the_limit_is_on_the_url_as_sent_and_the_kept_form_may_be_longer() {
        let at_limit = format!("https://shop.example?q={}", "x".repeat(MAX_URL_BYTES - 23));
        assert_eq!(at_limit.len(), MAX_URL_BYTES);
        let kept = return_url(&at_limit, Mode::Sandbox).unwrap();
        assert_eq!(kept.as_str().len(), MAX_URL_BYTES + 1, "a `/` after the host");
        assert_eq!(return_url(kept.as_str(), Mode::Sandbox), Err(UrlError::TooLong));
        let over = format!("{at_limit}x");
        assert_eq!(return_url(&over, Mode::Sandbox), Err(UrlError::TooLong));
    }

    #[test]
    fn urls_are_kept_as_they_parse() {
        assert_eq!(return_url("https://Shop.Example", Mode::Sandbox).unwrap().as_str(), "https://shop.example/");
        assert_eq!(return_url("http://127.0.0.1:8000", Mode::Sandbox).unwrap().as_str(), "http://127.0.0.1:8000/");
        assert_eq!(return_url("http://localhost:65535/r", Mode::Sandbox).unwrap().as_str(), "http://localhost:65535/r");
        let kept = return_url("https://shop.example/r?a=1&b=%20", Mode::Sandbox).unwrap();
        assert_eq!(kept.as_str(), "https://shop.example/r?a=1&b=%20");
    }

    #[test]
    fn urls_a_parser_would_have_to_repair_are_refused() {
        for raw in [
            "http:evil.example/r",
            "http:\\\\hooks.example\\in",
            "HTTP://shop.example/",
            "https://shop*.example/",
            "https://shop.example/a b",
            "https://shop.example/é",
            "https://shop.example/100%",
            "https://shop.example/%zz",
            "https://1.2.3.999/",
            "https://99999999999/",
            "https://user:pw@shop.example/",
            "https://shop.example/r#frag ment",
            "https://[::1]:8000/",
            "https://shop.example:99999/",
            "https://shop.example:65536/",
            "https://shop.example:0/",
        ] {
            assert_eq!(return_url(raw, Mode::Sandbox), Err(UrlError::NotAbsoluteHttp), "{raw}");
        }
    }

    #[test]
    fn urls_with_control_characters_are_refused() {
        for raw in [
            "https://shop.example/r\0",
            "https://shop.example/\u{1}r",
            "https://shop.example/r\n",
            "https://shop\t.example/",
        ] {
            assert_eq!(return_url(raw, Mode::Sandbox), Err(UrlError::ControlCharacter), "{raw:?}");
            assert_eq!(WebhookUrl::parse(raw, Mode::Sandbox, false), Err(UrlError::ControlCharacter), "{raw:?}");
        }
    }

    #[test]
    fn return_urls_must_be_absolute_http() {
        assert_eq!(return_url("javascript:alert(1)", Mode::Sandbox), Err(UrlError::NotAbsoluteHttp));
        assert_eq!(return_url("/checkout/return", Mode::Sandbox), Err(UrlError::NotAbsoluteHttp));
        assert_eq!(return_url("ftp://shop.example/r", Mode::Sandbox), Err(UrlError::NotAbsoluteHttp));
        assert!(return_url("http://shop.example/r?a=1#frag", Mode::Sandbox).is_ok());
    }

    #[test]
    fn live_return_urls_need_https_except_on_the_developers_machine() {
        assert_eq!(return_url("http://shop.example/r", Mode::Live), Err(UrlError::HttpsRequired));
        assert!(return_url("https://shop.example/r", Mode::Live).is_ok());
        assert!(return_url("http://localhost:3000/r", Mode::Live).is_ok());
        assert!(return_url("http://127.0.0.1:3000/r", Mode::Live).is_ok());
    }

    #[test]
    fn return_urls_may_not_use_reserved_parameters() {
        assert_eq!(
            return_url("https://shop.example/r?payment_status=SUCCESS", Mode::Sandbox),
            Err(UrlError::ReservedParameter("payment_status"))
        );
        assert_eq!(
            return_url("https://shop.example/r?a=1&signature=x", Mode::Sandbox),
            Err(UrlError::ReservedParameter("signature"))
        );
    }

    #[test]
    fn allowed_return_hosts_close_open_redirects() {
        let allowed = vec!["shop.example".to_owned()];
        assert!(ReturnUrl::parse("https://shop.example/r", Mode::Live, &allowed).is_ok());
        assert_eq!(ReturnUrl::parse("https://evil.example/r", Mode::Live, &allowed), Err(UrlError::HostNotAllowed));
    }

    #[test]
    fn webhook_urls_follow_mode_and_port_rules() {
        assert_eq!(WebhookUrl::parse("ftp://x.example/h", Mode::Sandbox, false), Err(UrlError::NotAbsoluteHttp));
        assert_eq!(WebhookUrl::parse("http://x.example/h", Mode::Live, false), Err(UrlError::HttpsRequired));
        assert_eq!(WebhookUrl::parse("https://x.example:8443/h", Mode::Live, true), Err(UrlError::ExplicitPort));
        assert!(WebhookUrl::parse("http://127.0.0.1:9000/h", Mode::Sandbox, false).is_ok());
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_a_url_or_refused_without_panic(
            raw in "\\PC{0,80}|https?://[a-zA-Z0-9.:/?#%@\\[\\]-]{0,40}",
        ) {
            let _ = ReturnUrl::parse(&raw, Mode::Sandbox, &[]);
            let _ = ReturnUrl::parse(&raw, Mode::Live, &["shop.example".to_owned()]);
            let _ = WebhookUrl::parse(&raw, Mode::Live, true);
        }

        #[test]
        fn a_url_as_stored_parses_to_itself(
            raw in "https?://[A-Za-z][A-Za-z0-9.-]{0,20}[a-z](:[1-9][0-9]{0,3})?(/[A-Za-z0-9._~%-]{0,12}){0,3}(\\?[a-z]=[0-9]{1,3})?",
        ) {
            if let Ok(url) = ReturnUrl::parse(&raw, Mode::Sandbox, &[]) {
                let again = ReturnUrl::parse(url.as_str(), Mode::Sandbox, &[]);
                proptest::prop_assert_eq!(again.map(|u| u.as_str().to_owned()), Ok(url.as_str().to_owned()));
            }
        }
    }
}
