//! Where configuration values come from, and errors that say which source was wrong.

use super::{DEFAULTS, OPTIONAL_KEYS};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

const ENV_PREFIX: &str = "GATEPOST_";

/// Where one value was set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Default,
    File { path: String, key: String },
    Env(String),
    Flag(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File { path, key } => write!(f, "{path}: {key}"),
            Self::Env(name) => f.write_str(name),
            Self::Flag(name) => f.write_str(name),
        }
    }
}

/// A configuration problem, shown as one line.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub source: Source,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// The merged layers: for each dotted key, the winning value and its source.
#[derive(Clone, Debug, Default)]
pub struct Layers {
    values: BTreeMap<String, (String, Source)>,
}

fn is_known(key: &str) -> bool {
    DEFAULTS.iter().any(|(k, _)| *k == key) || OPTIONAL_KEYS.contains(&key)
}

/// The variable that sets `key`: `webhooks.retry_schedule` → `GATEPOST_WEBHOOKS__RETRY_SCHEDULE`.
#[must_use]
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "__").to_uppercase())
}

impl Layers {
    #[must_use]
    pub fn defaults_only() -> Self {
        let values =
            DEFAULTS.iter().map(|(key, value)| ((*key).to_owned(), ((*value).to_owned(), Source::Default))).collect();
        Self { values }
    }

    /// Defaults, then `file` (if any), then the process environment.
    pub fn load(file: Option<&Path>, env: impl Iterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut layers = Self::defaults_only();
        if let Some(path) = file {
            layers.read_file(path)?;
        }
        layers.read_env(env);
        Ok(layers)
    }

    fn read_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let shown = path.display().to_string();
        let fail = |key: &str, problem: String| ConfigError {
            source: Source::File { path: shown.clone(), key: key.to_owned() },
            problem,
        };
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            source: Source::Flag("--config"),
            problem: format!("cannot read {shown}: {e}"),
        })?;
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| fail("", e.message().to_owned()))?;
        let mut flat = Vec::new();
        flatten("", &toml::Value::Table(table), &mut flat);
        for (key, value) in flat {
            let value = value.map_err(|problem| fail(&key, problem))?;
            if !is_known(&key) {
                return Err(fail(&key, "unknown setting".into()));
            }
            let source = Source::File { path: shown.clone(), key: key.clone() };
            self.values.insert(key, (value, source));
        }
        Ok(())
    }

    /// `GATEPOST_*` variables that name a known setting. Others are left alone: tools
    /// around gatepost may use the prefix too.
    fn read_env(&mut self, env: impl Iterator<Item = (String, String)>) {
        let env: BTreeMap<String, String> = env.filter(|(name, _)| name.starts_with(ENV_PREFIX)).collect();
        let keys = DEFAULTS.iter().map(|(key, _)| *key).chain(OPTIONAL_KEYS.iter().copied());
        for key in keys {
            let name = env_name(key);
            if let Some(value) = env.get(&name) {
                self.values.insert(key.to_owned(), (value.clone(), Source::Env(name)));
            }
        }
    }

    /// A flag overrides every other layer.
    #[must_use]
    pub fn with_flag(mut self, key: &str, flag: &'static str, value: &str) -> Self {
        debug_assert!(is_known(key), "{key}");
        self.values.insert(key.to_owned(), (value.to_owned(), Source::Flag(flag)));
        self
    }

    pub(super) fn parse<T>(&self, key: &str, parse: impl FnOnce(&str) -> Result<T, String>) -> Result<T, ConfigError> {
        let (value, source) = self.values.get(key).expect("every required key has a default");
        parse(value)
            .map_err(|problem| ConfigError { source: source.clone(), problem: format!("{problem}, got {value:?}") })
    }

    pub(super) fn parse_optional<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match self.values.get(key) {
            None => Ok(None),
            Some((value, source)) => parse(value).map(Some).map_err(|problem| ConfigError {
                source: source.clone(),
                problem: format!("{problem}, got {value:?}"),
            }),
        }
    }
}

/// TOML tables become dotted keys; arrays of strings become comma-separated lists.
fn flatten(prefix: &str, value: &toml::Value, out: &mut Vec<(String, Result<String, String>)>) {
    let text = match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                let key = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                flatten(&key, value, out);
            }
            return;
        }
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(|| "lists must hold strings".to_owned()))
            .collect::<Result<Vec<_>, _>>()
            .map(|items| items.join(",")),
        other => Ok(other.to_string()),
    };
    out.push((prefix.to_owned(), text));
}
