//! Configuration (docs/reference/configuration.md#layers): defaults embedded here, then an
//! optional TOML file, then `GATEPOST_*` environment variables (`__` separates nesting),
//! then flags.
//!
//! Every value remembers where it came from, so a bad one stops start-up with one line
//! that names the variable, key or flag to fix.

mod sources;

pub use sources::{ConfigError, Layers, Source, env_name};

use gatepost_core::urls::Mode;
use gatepost_server::Rate;
use std::net::SocketAddr;
use std::time::Duration;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Webhook delivery settings (docs/reference/webhooks.md, docs/reference/urls.md#webhook-urls).
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    pub retry_schedule: Vec<Duration>,
    pub timeout: Duration,
    pub allow_private_targets: bool,
    pub forbid_explicit_port: bool,
    /// Attempts in flight at once to one destination (docs/reference/webhooks.md#fairness).
    pub max_in_flight_per_endpoint: usize,
    /// How long an endpoint's attempts may all fail (at least ten of them) before it is
    /// turned off (docs/reference/webhooks.md#auto-disable).
    pub disable_after: Duration,
}

/// The sandbox connector (docs/reference/connectors.md#sandbox).
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// When async sandbox payments settle.
    pub async_delay: Duration,
}

/// The `simulator` connector: where `gatepost acquirer-sim` listens, and the secret both
/// sides sign with (docs/reference/connectors.md#simulator).
#[derive(Clone, Debug)]
pub struct SimulatorConfig {
    pub url: String,
    pub secret: String,
}

/// Connectors (docs/reference/connectors.md, docs/reference/callbacks.md#polling).
#[derive(Clone, Debug)]
pub struct ConnectorsConfig {
    /// How long a pending result waits for its callback before it is polled.
    pub poll_after: Duration,
    /// Present when the simulator is configured; merchants can then choose it.
    pub simulator: Option<SimulatorConfig>,
}

/// Limits on connections and requests (docs/reference/limits.md).
#[derive(Clone, Copy, Debug)]
pub struct HttpConfig {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
}

/// Request rate limits; `None` is no limit (docs/reference/limits.md#rate-limits).
#[derive(Clone, Copy, Debug)]
pub struct RateLimitConfig {
    pub api: Option<Rate>,
    pub pay: Option<Rate>,
}

/// Everything gatepost can be configured with.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// `None` means `http://<the address actually bound>`.
    pub public_url: Option<String>,
    pub database_url: String,
    pub mode: Mode,
    pub webhooks: WebhookConfig,
    pub sandbox: SandboxConfig,
    pub connectors: ConnectorsConfig,
    pub log: String,
    pub log_format: LogFormat,
    /// When set, `/metrics` needs `Authorization: Bearer <token>`.
    pub metrics_token: Option<String>,
    pub http: HttpConfig,
    pub rate_limit: RateLimitConfig,
}

/// The defaults of docs/reference/configuration.md#variables, as the layers below them see them.
pub const DEFAULTS: &[(&str, &str)] = &[
    ("listen", "127.0.0.1:8080"),
    ("database_url", "sqlite://gatepost.db"),
    ("mode", "sandbox"),
    ("webhooks.retry_schedule", "1m,1m,1m,5m,10m,30m,1h,2h,4h,8h,1d,1d,2d,3d,7d,7d,7d"),
    ("webhooks.timeout", "10s"),
    ("webhooks.forbid_explicit_port", "false"),
    ("webhooks.max_in_flight_per_endpoint", "64"),
    ("webhooks.disable_after", "5d"),
    ("sandbox.async_delay", "2s"),
    ("connectors.poll_after", "30s"),
    ("log", "info"),
    ("log_format", "text"),
    ("http.header_timeout", "10s"),
    ("http.body_timeout", "30s"),
    ("http.idle_timeout", "60s"),
    ("http.max_connections", "10000"),
];

/// Keys that have no default: unset means "derive it" (see [`Config`]).
pub const OPTIONAL_KEYS: &[&str] = &[
    "public_url",
    "webhooks.allow_private_targets",
    "connectors.simulator.url",
    "connectors.simulator.secret",
    "metrics_token",
    "rate_limit.api",
    "rate_limit.pay",
];

impl Config {
    /// Reads every layer and parses each value into its type.
    pub fn load(layers: &Layers) -> Result<Self, ConfigError> {
        let mode = layers.parse("mode", parse_mode)?;
        Ok(Self {
            listen: layers
                .parse("listen", |v| v.parse().map_err(|_| "not a socket address such as 127.0.0.1:8080".into()))?,
            public_url: layers.parse_optional("public_url", parse_public_url)?,
            database_url: layers.parse("database_url", parse_database_url)?,
            mode,
            webhooks: WebhookConfig {
                retry_schedule: layers.parse("webhooks.retry_schedule", parse_schedule)?,
                timeout: layers.parse("webhooks.timeout", parse_positive_duration)?,
                // Private targets are fine on a developer's machine, never in live mode
                // (docs/reference/urls.md#private-addresses).
                allow_private_targets: layers
                    .parse_optional("webhooks.allow_private_targets", parse_bool)?
                    .unwrap_or(mode == Mode::Sandbox),
                forbid_explicit_port: layers.parse("webhooks.forbid_explicit_port", parse_bool)?,
                max_in_flight_per_endpoint: layers.parse("webhooks.max_in_flight_per_endpoint", parse_count)?,
                disable_after: layers.parse("webhooks.disable_after", parse_positive_duration)?,
            },
            sandbox: SandboxConfig { async_delay: layers.parse("sandbox.async_delay", parse_duration)? },
            connectors: ConnectorsConfig {
                poll_after: layers.parse("connectors.poll_after", parse_positive_duration)?,
                simulator: simulator_config(layers)?,
            },
            log: layers.parse("log", parse_log_filter)?,
            log_format: layers.parse("log_format", |v| match v {
                "text" => Ok(LogFormat::Text),
                "json" => Ok(LogFormat::Json),
                _ => Err("must be text or json".into()),
            })?,
            metrics_token: layers.parse_optional("metrics_token", |v| {
                if v.trim().is_empty() { Err("must not be empty".to_owned()) } else { Ok(v.to_owned()) }
            })?,
            http: HttpConfig {
                header_timeout: layers.parse("http.header_timeout", parse_positive_duration)?,
                body_timeout: layers.parse("http.body_timeout", parse_positive_duration)?,
                idle_timeout: layers.parse("http.idle_timeout", parse_positive_duration)?,
                max_connections: layers.parse("http.max_connections", parse_count)?,
            },
            // Off in sandbox, so that tests and load tests from one key run freely
            // (docs/reference/limits.md#settings).
            rate_limit: RateLimitConfig {
                api: layers
                    .parse_optional("rate_limit.api", Rate::parse)?
                    .unwrap_or_else(|| live_default(mode, LIVE_API_RATE)),
                pay: layers
                    .parse_optional("rate_limit.pay", Rate::parse)?
                    .unwrap_or_else(|| live_default(mode, LIVE_PAY_RATE)),
            },
        })
    }

    /// The configuration with nothing but defaults and the given database: what tests
    /// start from.
    pub fn with_database(database_url: &str) -> Self {
        let layers = Layers::defaults_only().with_flag("database_url", "--database", database_url);
        Self::load(&layers).expect("the embedded defaults are valid")
    }
}

/// The default request rates of live mode (docs/reference/limits.md#settings).
const LIVE_API_RATE: &str = "100/s";
const LIVE_PAY_RATE: &str = "10/s";

fn live_default(mode: Mode, rate: &str) -> Option<Rate> {
    match mode {
        Mode::Live => Rate::parse(rate).expect("the built-in rates parse"),
        Mode::Sandbox => None,
    }
}

/// The simulator needs both its URL and its secret, or neither.
fn simulator_config(layers: &Layers) -> Result<Option<SimulatorConfig>, ConfigError> {
    let url = layers.parse_optional("connectors.simulator.url", parse_public_url)?;
    let secret = layers.parse_optional("connectors.simulator.secret", |v| {
        if v.is_empty() { Err("must not be empty".to_owned()) } else { Ok(v.to_owned()) }
    })?;
    match (url, secret) {
        (Some(url), Some(secret)) => Ok(Some(SimulatorConfig { url, secret })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError {
            source: Source::Env(env_name("connectors.simulator.secret")),
            problem: format!("must be set when {} is", env_name("connectors.simulator.url")),
        }),
        (None, Some(_)) => Err(ConfigError {
            source: Source::Env(env_name("connectors.simulator.url")),
            problem: format!("must be set when {} is", env_name("connectors.simulator.secret")),
        }),
    }
}

type ParseResult<T> = Result<T, String>;

fn parse_mode(value: &str) -> ParseResult<Mode> {
    match value {
        "sandbox" => Ok(Mode::Sandbox),
        "live" => Ok(Mode::Live),
        _ => Err("must be sandbox or live".into()),
    }
}

fn parse_bool(value: &str) -> ParseResult<bool> {
    match value {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("must be true or false".into()),
    }
}

fn parse_count(value: &str) -> ParseResult<usize> {
    match value.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("must be a whole number above zero".to_owned()),
    }
}

fn parse_duration(value: &str) -> ParseResult<Duration> {
    humantime::parse_duration(value.trim()).map_err(|e| format!("not a duration such as 10s or 5m ({e})"))
}

fn parse_positive_duration(value: &str) -> ParseResult<Duration> {
    let duration = parse_duration(value)?;
    if duration.is_zero() { Err("must be longer than zero".into()) } else { Ok(duration) }
}

fn parse_schedule(value: &str) -> ParseResult<Vec<Duration>> {
    let delays: Vec<Duration> = value.split(',').map(parse_duration).collect::<Result<_, _>>()?;
    if delays.is_empty() { Err("needs at least one delay".into()) } else { Ok(delays) }
}

fn parse_public_url(value: &str) -> ParseResult<String> {
    let url = url::Url::parse(value).map_err(|e| format!("not an absolute URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("must be an http or https URL".into());
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn parse_database_url(value: &str) -> ParseResult<String> {
    let known = ["sqlite://", "sqlite:", "postgres://", "postgresql://"];
    if known.iter().any(|prefix| value.starts_with(prefix)) && value.len() > "sqlite:".len() {
        Ok(value.to_owned())
    } else {
        Err("must be sqlite://PATH or postgres://…".into())
    }
}

fn parse_log_filter(value: &str) -> ParseResult<String> {
    tracing_subscriber::EnvFilter::try_new(value)
        .map(|_| value.to_owned())
        .map_err(|e| format!("not a log filter such as info or gatepost=debug ({e})"))
}

#[cfg(test)]
mod tests;
